"""Every route declares its policy, and no route shows anything to a person the policy refuses.

``test_every_route_declares_a_policy`` walks ``app.url_map``. ``test_route_walk`` tries every
route (every method it answers) as every role against one application of a citizen in Yasamal
waiting at the review, with its work item, instance, photo and invoice-less state; wherever the
policy refuses the route's action on that object, the answer must be "not found" (or, for
someone not signed in, the way to the login page). The counts are printed.
"""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.routing.converters import NumberConverter

from engine import policy
from engine.models import Account, WorkItem
from engine.workitems import resource_of
from tests import factories as f
from tests.web.staffing import actor_of, submit_via_engine
from web.route_policy import PUBLIC, SIGNED_IN, declared
from workflow import privacy
from workflow.models import Application

ROLES = (
    "anonymous",
    "citizen",
    "citizen2",
    "operator",
    "operator_other_unit",
    "inspector",
    "unit_head",
    "analyst",
    "admin",
)


def test_every_route_declares_a_policy(app):
    undeclared = sorted(
        rule.rule for rule in app.url_map.iter_rules() if declared(app, rule.endpoint) is None
    )
    assert undeclared == []
    kinds = {declared(app, rule.endpoint) for rule in app.url_map.iter_rules()}
    assert kinds <= {PUBLIC, SIGNED_IN, *policy.ACTIONS}


def _sample(system, people, subscriber):
    sent = submit_via_engine(system, people, subscriber)
    with system.sessions() as s:
        app = s.scalar(select(Application).where(Application.instance_id == sent.instance_id))
        item = s.get(WorkItem, sent.review_id)
        line = app.lines[0]
        other = s.scalar(select(Account).where(Account.username == people["citizen2"]))
        return {
            "values": {
                "item_id": item.id,
                "line_id": line.id,
                "application_id": app.id,
                "file_id": line.photo_id,
                "instance_id": sent.instance_id,
                "account_id": other.id,
                "provider": "egov",
                "node": "review_application",
                "name": "meter_reading.bpmn",
                "filename": "saygac.css",
                "number:int": 1,
                "number": app.number,
                "incident_id": 1,
                "action": "close",
                "code": app.subscriber.code,
            },
            "resources": {
                "application": privacy.application_resource(app),
                "work_item": resource_of(item),
                "instance": policy.Resource("instance", unit_id=app.unit_id),
            },
        }


def _url(rule, values) -> str:
    args = {}
    for arg in rule.arguments:
        is_int = isinstance(rule._converters[arg], NumberConverter)
        key = f"{arg}:int" if is_int and f"{arg}:int" in values else arg
        assert key in values, f"the walk has no sample value for <{arg}> of {rule.rule}: add one"
        args[arg] = values[key]
    return rule.build(args, append_unknown=False)[1]


def test_route_walk(app, auth, people, subscriber, system, capsys):
    with system.sessions() as s:
        f.account(s, "analyst", username="analitik", name="Nigar Quliyeva")
        f.account(s, "admin", username="admin", name="Admin")
        s.commit()
    logins = {**people, "analyst": "analitik", "admin": "admin"}
    sample = _sample(system, people, subscriber)
    app.config["WTF_CSRF_ENABLED"] = False
    browsers = {
        role: (auth.browser() if role == "anonymous" else auth.login(logins[role]))
        for role in ROLES
    }
    actors = {
        role: (
            policy.Actor(id=None, role="anonymous", label="-")
            if role == "anonymous"
            else actor_of(system, logins[role])
        )
        for role in ROLES
    }
    tried, refusals, leaks = 0, 0, []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        action, declared_resource = (
            declared(app, rule.endpoint),
            getattr(view, "policy_resource", None),
        )
        url = _url(rule, sample["values"])
        args = {arg: sample["values"][arg] for arg in rule.arguments if arg in sample["values"]}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method != "GET" and action in (PUBLIC, SIGNED_IN):
                continue  # signing in and out, one's own account: nothing of anyone else's to leak
            for role in ROLES:
                if action == PUBLIC:
                    allowed = True
                elif action == SIGNED_IN:
                    allowed = role != "anonymous"
                else:
                    kind = policy.kind_of(action)
                    if declared_resource is not None:  # what the route itself asks about
                        resource = declared_resource(actors[role], **args)
                    else:  # the route asks about the object it loads: the sample's
                        resource = sample["resources"].get(kind) or policy.Resource(
                            kind, unit_id=actors[role].unit_id, lane="operator"
                        )
                    allowed = policy.allows(actors[role], action, resource)
                response = browsers[role].client.open(url, method=method, data={})
                response.close()
                tried += 1
                if allowed:
                    continue
                refusals += 1
                location = response.headers.get("Location", "")
                if (
                    action == policy.CALL_API
                ):  # the API answers with problem documents: 401 without a token
                    refused = response.status_code in (401, 403, 404)
                else:
                    refused = response.status_code == 404 or (
                        role == "anonymous"
                        and response.status_code == 302
                        and location.startswith("/login")
                    )
                if not refused:
                    leaks.append((method, url, role, action, response.status_code))
    with capsys.disabled():
        print(
            f"\nroute walk: {len(list(app.url_map.iter_rules()))} routes, {tried} requests "
            f"(route × method × role), {refusals} refused by the policy, leaks: {len(leaks)}"
        )
    assert leaks == []
