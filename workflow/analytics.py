"""The meter-reading process's named paths, for the analytics of ``engine/analytics.py``.

Every finished application takes exactly one path; the first rule that holds names it:

1. ``abandoned``: the draft expired (end event ``abandoned``);
2. ``rejected``: an operator rejected it (end event ``rejected``);
3. ``escalated``: its review ran past the SLA and went to the unit head;
4. ``overridden``: an inspector visited and the inspector's reading replaced the citizen's;
5. ``inspected``: an inspector visited and confirmed the declared reading;
6. ``accepted_directly``: accepted by the operator without inspection;
7. ``other``: anything else (a diagram version with other end events, a failed instance).
"""

from __future__ import annotations

from engine.analytics import Case
from workflow.tasks import OVERRIDDEN

_ROUTED = (
    "start",
    "citizen_draft",
    "draft_start",
    "identify_subscriber",
    "enter_readings",
    "draft_end",
    "register_application",
    "check_plausibility",
    "route_to_unit",
    "assign_unit",
    "review_application",
    "review_decision",
)
_POSTED = ("post_reading", "compute_invoice", "render_invoice", "notify_subscriber", "executed")
_VISITED = ("field_inspection", "inspection_outcome")
# the diagram elements each path goes through, to highlight it
PATH_NODES = {
    "accepted_directly": _ROUTED + _POSTED,
    "inspected": _ROUTED + _VISITED + _POSTED,
    "overridden": _ROUTED + _VISITED + _POSTED,
    "rejected": _ROUTED + ("notify_rejection", "rejected"),
    "escalated": _ROUTED + ("review_sla", "escalate_review", "handle_escalation") + _POSTED,
    "abandoned": (
        "start",
        "citizen_draft",
        "draft_start",
        "identify_subscriber",
        "enter_readings",
        "draft_expired",
        "discard_draft",
        "abandoned",
    ),
    "other": (),
}
PATHS = (
    "accepted_directly",
    "inspected",
    "overridden",
    "rejected",
    "escalated",
    "abandoned",
    "other",
)
DIRECT = "accepted_directly"


def classify(case: Case) -> str:
    if case.end_node == "abandoned":
        return "abandoned"
    if case.end_node == "rejected":
        return "rejected"
    if case.escalated:
        return "escalated"
    if case.end_node == "executed":
        if OVERRIDDEN in case.markers:
            return "overridden"
        return "inspected" if "field_inspection" in case.nodes else DIRECT
    return "other"
