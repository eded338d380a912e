"""The analytics pages and the JSON and file endpoints behind them."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from engine import analytics, analytics_export, analytics_rollup, policy
from engine.errors import DiagramError
from web.analytics.filters import Filter, read_filter
from web.auth import current_actor
from web.db import get_db, get_system
from web.i18n import TASK_TITLES, translate
from web.route_policy import allowed
from workflow.analytics import DIRECT, PATH_NODES, PATHS
from workflow.i18n import N_
from workflow.process import PROCESS_ID

bp = Blueprint("analytics", __name__, url_prefix="/analytics", template_folder="templates")


def _analytics(actor, **_args) -> policy.Resource:
    """The analytics of the person's unit (heads) or of all units (analysts, admins: no unit)."""
    return policy.Resource("analytics", unit_id=actor.unit_id)


# colour steps of the heat by median waiting time, in hours (the legend names them)
HEAT_STEPS_HOURS = (1, 8, 24, 48)
PATH_LABELS = {
    "accepted_directly": N_("Accepted directly"),
    "inspected": N_("Inspected, reading confirmed"),
    "overridden": N_("Inspected, reading replaced"),
    "rejected": N_("Rejected"),
    "escalated": N_("Escalated"),
    "abandoned": N_("Abandoned draft"),
    "other": N_("Other"),
}
CYCLE_LABELS = (
    N_("under 1 day"),
    N_("1–2 days"),
    N_("2–3 days"),
    N_("3–5 days"),
    N_("5–10 days"),
    N_("10–20 days"),
    N_("20 days or more"),
)
assert set(PATH_LABELS) == set(PATHS)


def _now() -> datetime:
    return get_system().services.now()


def _filter() -> Filter:
    system = get_system()
    found = read_filter(
        get_db(), request.args, current_actor(), PROCESS_ID, system.services.today()
    )
    if found is None or not found.versions:
        abort(404)
    return found


def _zone() -> str:
    return get_system().settings.app.timezone


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def heat_level(wait_median: float | None) -> int:
    if wait_median is None:
        return 0
    return sum(wait_median / 3600 >= step for step in HEAT_STEPS_HOURS)


def node_title(node: str) -> str:
    return translate(TASK_TITLES[node]) if node in TASK_TITLES else node


@bp.app_template_filter("hours")
def hours_filter(seconds: float | None) -> str:
    value = hours(seconds)
    return "–" if value is None else _("%(hours)s h", hours=value)


@bp.app_template_filter("share")
def share_filter(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


def _nodes(stats: dict) -> list[dict]:
    return [
        {"node": node, "title": node_title(node), "level": heat_level(s["wait_median"]), **s}
        for node, s in stats.items()
    ]


def _paths(found: list[dict]) -> list[dict]:
    return [
        {
            **p,
            "label": translate(PATH_LABELS.get(p["path"], p["path"])),
            "nodes": PATH_NODES.get(p["path"], ()),
        }
        for p in found
    ]


def _days(flt: Filter, version_ids: tuple[int, ...] | None = None) -> analytics_rollup.Days:
    scope = flt.scope(_zone())
    return analytics_rollup.Days(
        version_ids or scope.version_ids, flt.start, flt.end, scope.unit_ids
    )


def _node_stats(flt: Filter, version_ids: tuple[int, ...] | None = None) -> list[dict]:
    days = _days(flt, version_ids)
    open_now = analytics.open_counts(
        get_db(),
        analytics.Scope(
            days.version_ids, flt.scope(_zone()).start, flt.scope(_zone()).end, days.unit_ids
        ),
    )
    return _nodes(analytics_rollup.node_stats(get_db(), days, open_now))


@bp.route("/")
@allowed(policy.READ_ANALYTICS, _analytics)
def index():
    flt = _filter()
    db = get_db()
    nodes = _node_stats(flt)
    paths = _paths(analytics_rollup.paths(db, _days(flt)))
    charts = analytics_rollup.charts(db, _days(flt), DIRECT)
    unit_codes = {u.id: u.code for u in flt.units}
    return render_template(
        "analytics/index.html",
        flt=flt,
        nodes=nodes,
        paths=paths,
        charts=charts,
        unit_codes=unit_codes,
        cycle_labels=[translate(label) for label in CYCLE_LABELS],
        heat_steps=HEAT_STEPS_HOURS,
        computed_at=analytics_rollup.refreshed_at(db),
        heat_url=url_for("analytics.heat", **flt.args()),
    )


@bp.route("/heat.json")
@allowed(policy.READ_ANALYTICS, _analytics)
def heat():
    flt = _filter()
    db = get_db()
    version = flt.version or flt.versions[0]  # all versions: drawn on the latest diagram
    xml = next((text for name, text in version.files.items() if name.endswith(".bpmn")), None)
    if xml is None:
        raise DiagramError("the version has no diagram")
    nodes = {
        n["node"]: {
            "title": n["title"],
            "level": n["level"],
            "passed": n["passed"],
            "open": n["open"],
            "wait_median": hours(n["wait_median"]),
            "wait_p90": hours(n["wait_p90"]),
            "work_median": hours(n["work_median"]),
            "breach_share": n["breach_share"],
            "wait_text": f"{hours_filter(n['wait_median'])} / {hours_filter(n['wait_p90'])}",
            "sla_text": share_filter(n["breach_share"]),
            "url": url_for("analytics.node", node=n["node"], **flt.args()),
        }
        for n in _node_stats(flt)
    }
    paths = [
        {"path": p["path"], "nodes": p["nodes"]}
        for p in _paths(analytics_rollup.paths(db, _days(flt)))
    ]
    labels = {
        "passed": _("passed"),
        "waiting": _("waiting, median / 90th percentile"),
        "sla": _("over SLA"),
        "open": _("waiting now"),
    }
    return jsonify({"xml": xml, "nodes": nodes, "paths": paths, "labels": labels})


@bp.route("/nodes/<node>")
@allowed(policy.READ_ANALYTICS, _analytics)
def node(node: str):
    flt = _filter()
    if len(node) > 64:
        abort(404)
    actor = current_actor()
    listing = analytics.node_instances(get_db(), flt.scope(_zone()), node, _now())

    def link(row: dict) -> str | None:
        if policy.allows(
            actor, policy.VIEW_INSTANCE, policy.Resource(kind="instance", unit_id=row["unit_id"])
        ):
            return url_for("staff.instance", instance_id=row["instance_id"])
        return None

    for row in listing["waiting"] + listing["slowest"]:
        row["url"] = link(row)
    return render_template(
        "analytics/node.html",
        flt=flt,
        node=node,
        title=node_title(node),
        listing=listing,
        unit_codes={u.id: u.code for u in flt.units},
    )


@bp.route("/compare")
@allowed(policy.READ_ANALYTICS, _analytics)
def compare():
    flt = _filter()
    db = get_db()
    by_number = {str(v.version): v for v in flt.versions}
    picked = [by_number.get((request.args.get(k) or "").strip()) for k in ("a", "b")]
    defaults = [flt.versions[min(1, len(flt.versions) - 1)], flt.versions[0]]
    error = None
    if any(v is None for v, k in zip(picked, ("a", "b"), strict=False) if request.args.get(k)):
        error = _("Choose a version from the list.")
    picked = [p or d for p, d in zip(picked, defaults, strict=False)]
    sides = []
    for version in picked:
        sides.append(
            {
                "version": version,
                "nodes": {n["node"]: n for n in _node_stats(flt, (version.id,))},
                "paths": {
                    p["path"]: p
                    for p in _paths(analytics_rollup.paths(db, _days(flt, (version.id,))))
                },
            }
        )
    node_names = sorted(set(sides[0]["nodes"]) | set(sides[1]["nodes"]))
    path_names = [p for p in PATHS if p in sides[0]["paths"] or p in sides[1]["paths"]]
    return render_template(
        "analytics/compare.html",
        flt=flt,
        sides=sides,
        node_names=node_names,
        path_names=path_names,
        path_labels={k: translate(v) for k, v in PATH_LABELS.items()},
        node_title=node_title,
        error=error,
        computed_at=analytics_rollup.refreshed_at(db),
    )


def _export(kind: str):
    flt = _filter()
    scope = flt.scope(_zone())
    db = get_db()
    codes = {u.id: u.code for u in flt.units}
    name = f"{PROCESS_ID}-{flt.start.isoformat()}-{flt.end.isoformat()}"
    if kind == "csv":
        body, mimetype = analytics_export.to_csv(db, scope, codes), "text/csv"
    else:
        body, mimetype = analytics_export.to_xes(db, scope, codes, PROCESS_ID), "application/xml"
    return Response(
        stream_with_context(body),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'},
    )


@bp.route("/export.csv")
@allowed(policy.READ_ANALYTICS, _analytics)
def export_csv():
    return _export("csv")


@bp.route("/export.xes")
@allowed(policy.READ_ANALYTICS, _analytics)
def export_xes():
    return _export("xes")
