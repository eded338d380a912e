"""Who may do what: one authorization policy over (actor, action, resource), deny by default.

Every decision "may this actor do this action on this resource" is answered here, by pure
functions over two small descriptors: the :class:`~engine.audit.Actor` (account id, role, unit,
FIN, API scopes) and a :class:`Resource` (its kind and the facts the rules need: the account that
owns it, the FIN of the subscriber it concerns, its unit, its assignee, its lane, whether it is a
citizen's draft). Pages, templates, PDFs, e-mails, jobs and the API ask :func:`allows` (or
:func:`require`); nothing else looks at roles.

How to read ``RULES``: for each action, the kind of resource it applies to and, per role, the
condition under which that role may do it. A role not named is refused; an action not named is
refused; a resource of another kind is refused. The conditions:

``always``     any resource of the kind
``owner``      the actor's account owns it (the applicant of an application, the starter of a draft)
``holder``     the actor's FIN is the FIN of the subscriber it concerns (the meter's holder)
``unit``       it belongs to the actor's structural unit
``assigned``   it is assigned to the actor by name
``lane``       a work item of the actor's own lane, in the actor's unit or assigned to them
``scope``      the actor's API scopes include the resource's scope

One rule above the table: **a citizen's draft belongs to the citizen alone** (nobody else, admins
included, may see, open or claim it).

Roles: ``anonymous``, ``citizen``, ``operator``, ``inspector``, ``unit_head``, ``analyst``,
``admin`` (and ``system`` for jobs, which the table never names: jobs act for a named recipient).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.audit import Actor

__all__ = [
    "ACTIONS",
    "RULES",
    "STAFF_LANES",
    "Actor",
    "Denied",
    "Resource",
    "allows",
    "lane_reach",
    "require",
]

# -- actions ------------------------------------------------------------------------------------
START_APPLICATION = "start_application"
SEE_APPLICATION = "see_application"
SEE_HOLDER_DATA = "see_holder_data"
DOWNLOAD_RECEIPT = "download_receipt"
DOWNLOAD_INVOICE = "download_invoice"
DOWNLOAD_PHOTO = "download_photo"
DOWNLOAD_ORIGINAL_PHOTO = "download_original_photo"
SEE_WORK_ITEM = "see_work_item"
CLAIM = "claim"
COMPLETE = "complete"
RELEASE = "release"
REASSIGN = "reassign"
ESCALATE = "escalate"
SEE_QUEUE = "see_queue"
SEE_FIELD_TASKS = "see_field_tasks"
SEE_UNIT_DASHBOARD = "see_unit_dashboard"
VIEW_INSTANCE = "view_instance"
READ_AUDIT = "read_audit"
EDIT_DIAGRAM = "edit_diagram"
VALIDATE_DIAGRAM = "validate_diagram"
DEPLOY_DIAGRAM = "deploy_diagram"
MIGRATE_DIAGRAM = "migrate_diagram"
RUN_SCENARIO = "run_scenario"
READ_ANALYTICS = "read_analytics"
CALL_API = "call_api"
VIEW_INCIDENTS = "view_incidents"
ACT_ON_INCIDENT = "act_on_incident"
MANAGE_ACCOUNTS = "manage_accounts"
READ_BILLING_FEED = "read_billing_feed"  # posted readings and invoices for the billing system (API)
OVERRIDE_CONFLICT = (
    "override_conflict"  # accept a flagged application without a site visit, with a reason
)

STAFF_ROLES = frozenset({"operator", "unit_head", "inspector", "analyst", "admin"})
STAFF_LANES = ("operator", "inspector", "unit_head")  # lanes of work items staff do (not "citizen")
HEAD_GIVES = ("operator", "inspector")  # lanes whose items a unit head may give to a named person


@dataclass(frozen=True)
class Resource:
    """What an action is done to, described by the facts the rules look at (all optional)."""

    kind: str  # application, work_item, queue, unit, instance, audit, diagram, analytics, api, incident, accounts, service
    owner_id: int | None = None  # the account that owns it: applicant, draft's citizen
    holder_fin: str | None = None  # FIN of the subscriber (meter holder) it concerns
    unit_id: int | None = None  # the structural unit it belongs to
    assignee_id: int | None = None  # the account it is assigned to by name
    lane: str | None = None  # a work item's (or queue's) lane role
    draft: bool = False  # a citizen's unfinished application: theirs alone
    scope: str | None = None  # the API scope it needs


class Denied(Exception):
    """The policy refuses the action; web views answer it as "not found" (ids are not to be probed)."""

    def __init__(self, action: str, kind: str):
        super().__init__(f"{action} on {kind} is not allowed")
        self.action = action
        self.kind = kind


Rule = Callable[[Actor, Resource], bool]


# -- conditions ---------------------------------------------------------------------------------
def always(actor: Actor, res: Resource) -> bool:
    return True


def owner(actor: Actor, res: Resource) -> bool:
    return actor.id is not None and actor.id == res.owner_id


def holder(actor: Actor, res: Resource) -> bool:
    return bool(actor.fin and res.holder_fin and actor.fin.upper() == res.holder_fin.upper())


def unit(actor: Actor, res: Resource) -> bool:
    return actor.unit_id is not None and actor.unit_id == res.unit_id


def assigned(actor: Actor, res: Resource) -> bool:
    return actor.id is not None and actor.id == res.assignee_id


def lane(actor: Actor, res: Resource) -> bool:
    """A work item of the actor's own lane: in their unit or assigned to them (a citizen's: assigned)."""
    reach = lane_reach(actor, res.lane)
    return (
        reach == "all"
        or (reach == "unit_or_assigned" and (unit(actor, res) or assigned(actor, res)))
        or (reach == "assigned" and assigned(actor, res))
    )


def scope(actor: Actor, res: Resource) -> bool:
    return res.scope is not None and res.scope in actor.scopes


def any_of(*rules: Rule) -> Rule:
    def rule(actor: Actor, res: Resource) -> bool:
        return any(r(actor, res) for r in rules)

    rule.__name__ = " or ".join(r.__name__ for r in rules)
    return rule


def only_lanes(lanes: tuple[str, ...], rule: Rule) -> Rule:
    def limited(actor: Actor, res: Resource) -> bool:
        return res.lane in lanes and rule(actor, res)

    limited.__name__ = f"{rule.__name__} ({', '.join(lanes)} items)"
    return limited


# -- which work items a role reaches (the SQL of ``engine.workitems`` and ``engine.workqueue`` is built from this)
LANE_REACH: dict[str, dict[str, str]] = {
    "citizen": {"citizen": "assigned"},
    "operator": {"operator": "unit_or_assigned"},
    "inspector": {"inspector": "unit_or_assigned"},
    "unit_head": {"unit_head": "unit_or_assigned"},
    "admin": {"operator": "all", "inspector": "all", "unit_head": "all"},
}


def lane_reach(actor: Actor, lane_role: str | None) -> str | None:
    """How far ``actor`` reaches into work items of ``lane_role``: "all", "unit_or_assigned", "assigned" or None."""
    return LANE_REACH.get(actor.role, {}).get(lane_role or "")


def reachable_lanes(actor: Actor) -> tuple[str, ...]:
    return tuple(LANE_REACH.get(actor.role, {}))


# -- the table ----------------------------------------------------------------------------------
_STAFF_OF_UNIT: dict[str, Rule] = {
    "operator": unit,
    "unit_head": unit,
    "inspector": any_of(unit, assigned),
    "admin": always,
}
_ANALYSTS: dict[str, Rule] = {"analyst": always, "admin": always}
_UNIT_HEAD_AND_ADMIN: dict[str, Rule] = {"unit_head": unit, "admin": always}

RULES: dict[str, tuple[str, dict[str, Rule]]] = {
    START_APPLICATION: ("service", {"citizen": always}),
    SEE_APPLICATION: ("application", {"citizen": owner, **_STAFF_OF_UNIT}),
    SEE_HOLDER_DATA: ("application", {"citizen": holder, **_STAFF_OF_UNIT}),
    DOWNLOAD_RECEIPT: ("application", {"citizen": owner, **_STAFF_OF_UNIT}),
    DOWNLOAD_INVOICE: (
        "application",
        {"citizen": any_of(owner, holder), "operator": unit, "unit_head": unit, "admin": always},
    ),
    DOWNLOAD_PHOTO: ("application", {"citizen": owner, **_STAFF_OF_UNIT}),
    DOWNLOAD_ORIGINAL_PHOTO: ("application", _UNIT_HEAD_AND_ADMIN),
    SEE_WORK_ITEM: ("work_item", dict.fromkeys(LANE_REACH, lane)),
    CLAIM: ("work_item", dict.fromkeys(LANE_REACH, lane)),
    COMPLETE: ("work_item", dict.fromkeys(LANE_REACH, lane)),
    RELEASE: ("work_item", dict.fromkeys(LANE_REACH, lane)),
    REASSIGN: (
        "work_item",
        {"unit_head": only_lanes(HEAD_GIVES, unit), "admin": only_lanes(HEAD_GIVES, always)},
    ),
    ESCALATE: (
        "work_item",
        {
            "operator": only_lanes(("operator",), lane),
            "inspector": only_lanes(("inspector",), lane),
            "admin": only_lanes(HEAD_GIVES, always),
        },
    ),
    SEE_QUEUE: (
        "queue",
        {
            "operator": only_lanes(("operator",), unit),
            "inspector": only_lanes(("inspector",), unit),
            "unit_head": only_lanes(HEAD_GIVES, unit),
            "admin": only_lanes(HEAD_GIVES, always),
        },
    ),
    SEE_FIELD_TASKS: ("queue", {"inspector": only_lanes(("inspector",), always)}),
    SEE_UNIT_DASHBOARD: ("unit", {"unit_head": unit}),
    VIEW_INSTANCE: ("instance", {"operator": unit, "unit_head": unit, "admin": always}),
    READ_AUDIT: ("audit", _UNIT_HEAD_AND_ADMIN),
    EDIT_DIAGRAM: ("diagram", _ANALYSTS),
    VALIDATE_DIAGRAM: ("diagram", _ANALYSTS),
    DEPLOY_DIAGRAM: ("diagram", _ANALYSTS),
    MIGRATE_DIAGRAM: ("diagram", _ANALYSTS),
    RUN_SCENARIO: ("diagram", _ANALYSTS),
    READ_ANALYTICS: ("analytics", {"analyst": always, "admin": always, "unit_head": unit}),
    CALL_API: (
        "api",
        dict.fromkeys(("citizen", "operator", "inspector", "unit_head", "analyst", "admin"), scope),
    ),
    VIEW_INCIDENTS: ("incident", _UNIT_HEAD_AND_ADMIN),
    ACT_ON_INCIDENT: ("incident", _UNIT_HEAD_AND_ADMIN),
    MANAGE_ACCOUNTS: ("accounts", {"admin": always}),
    READ_BILLING_FEED: ("billing", {"admin": always}),
    OVERRIDE_CONFLICT: ("application", {"operator": unit, "unit_head": unit}),
}
ACTIONS = tuple(RULES)


def allows(actor: Actor, action: str, resource: Resource) -> bool:
    """True when the policy lets ``actor`` do ``action`` on ``resource``; False for anything unknown."""
    entry = RULES.get(action)
    if entry is None:
        return False
    kind, by_role = entry
    if resource.kind != kind:
        return False
    if resource.draft and not (actor.role == "citizen" and owner(actor, resource)):
        return False  # a citizen's draft is theirs alone
    rule = by_role.get(actor.role)
    return rule is not None and bool(rule(actor, resource))


def kind_of(action: str) -> str | None:
    """The kind of resource ``action`` applies to (None for an unknown action)."""
    entry = RULES.get(action)
    return entry[0] if entry else None


def is_staff(actor: Actor) -> bool:
    """Staff sign in with a one-time code or the organisation's provider; citizens with their FIN."""
    return actor.role in STAFF_ROLES


def require(actor: Actor, action: str, resource: Resource) -> None:
    """Raise :class:`Denied` unless :func:`allows`."""
    if not allows(actor, action, resource):
        raise Denied(action, resource.kind)


def describe_rules() -> list[tuple[str, str, dict[str, str]]]:
    """The table as text, (action, kind, {role: condition}), for documentation and reports."""
    return [
        (action, kind, {role: rule.__name__ for role, rule in by_role.items()})
        for action, (kind, by_role) in RULES.items()
    ]
