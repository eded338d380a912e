"""The authorization policy against a table written out by hand: every person × action × resource.

The expected table below is not computed from ``engine.policy``: it is what the service promises.
For each action it names, per resource, everyone who may do it; every other combination (other
people, resources of another kind) must be refused.
"""

from __future__ import annotations

import pytest

from engine import policy
from engine.policy import Actor, Denied, Resource

PEOPLE = {
    "anonymous": Actor(id=None, role="anonymous", label="-"),
    "holder": Actor(
        id=1, role="citizen", label="-", fin="HOLDER1"
    ),  # the subscriber (meter holder)
    "applicant": Actor(
        id=2, role="citizen", label="-", fin="TENANT2"
    ),  # applies for a meter not theirs
    "other_citizen": Actor(id=3, role="citizen", label="-", fin="OTHER03"),
    "operator": Actor(id=10, role="operator", label="-", unit_id=1),
    "operator_other_unit": Actor(id=11, role="operator", label="-", unit_id=2),
    "inspector_assigned": Actor(
        id=12, role="inspector", label="-", unit_id=2
    ),  # of unit 2, given unit 1's work
    "inspector_of_unit": Actor(id=13, role="inspector", label="-", unit_id=1),
    "inspector_other_unit": Actor(id=14, role="inspector", label="-", unit_id=2),
    "api_operator": Actor(
        id=15, role="operator", label="-", unit_id=1, scopes=frozenset({"readings"})
    ),
    "unit_head": Actor(id=20, role="unit_head", label="-", unit_id=1),
    "unit_head_other_unit": Actor(id=21, role="unit_head", label="-", unit_id=2),
    "analyst": Actor(id=30, role="analyst", label="-"),
    "admin": Actor(id=40, role="admin", label="-"),
}

RESOURCES = {
    # applications of unit 1 whose subscriber is "holder"; the inspector of unit 2 is assigned to their field work
    "app_by_holder": Resource(
        "application", owner_id=1, holder_fin="HOLDER1", unit_id=1, assignee_id=12
    ),
    "app_by_tenant": Resource(
        "application", owner_id=2, holder_fin="holder1", unit_id=1, assignee_id=12
    ),
    "app_other": Resource("application", owner_id=99, holder_fin="STRANGE", unit_id=2),
    "draft": Resource("application", owner_id=2, holder_fin="HOLDER1", unit_id=1, draft=True),
    "operator_item": Resource("work_item", lane="operator", unit_id=1),
    "field_item": Resource("work_item", lane="inspector", unit_id=1, assignee_id=12),
    "head_item": Resource("work_item", lane="unit_head", unit_id=1),
    "citizen_item": Resource("work_item", lane="citizen", owner_id=2, assignee_id=2, draft=True),
    "other_unit_item": Resource("work_item", lane="operator", unit_id=2),
    "review_queue": Resource("queue", lane="operator", unit_id=1),
    "inspection_queue": Resource("queue", lane="inspector", unit_id=1),
    "unit": Resource("unit", unit_id=1),
    "instance": Resource("instance", unit_id=1),
    "unit_audit": Resource("audit", unit_id=1),
    "all_audit": Resource("audit"),
    "diagram": Resource("diagram"),
    "unit_analytics": Resource("analytics", unit_id=1),
    "all_analytics": Resource("analytics"),
    "api": Resource("api", scope="readings"),
    "unit_incident": Resource("incident", unit_id=1),
    "all_incidents": Resource("incident"),
    "accounts": Resource("accounts"),
    "billing_feed": Resource("billing"),
    "service": Resource("service"),
}

CITIZENS = {"holder", "applicant", "other_citizen"}
UNIT1_OPERATORS = {"operator", "api_operator"}
ANALYSTS = {"analyst", "admin"}
SEE_APP = {
    "app_by_holder": {
        "holder",
        *UNIT1_OPERATORS,
        "inspector_assigned",
        "inspector_of_unit",
        "unit_head",
        "admin",
    },
    "app_by_tenant": {
        "applicant",
        *UNIT1_OPERATORS,
        "inspector_assigned",
        "inspector_of_unit",
        "unit_head",
        "admin",
    },
    "app_other": {
        "operator_other_unit",
        "inspector_assigned",
        "inspector_other_unit",
        "unit_head_other_unit",
        "admin",
    },
    "draft": {"applicant"},
}
WORK = {
    "operator_item": {*UNIT1_OPERATORS, "admin"},
    "field_item": {"inspector_assigned", "inspector_of_unit", "admin"},
    "head_item": {"unit_head", "admin"},
    "citizen_item": {"applicant"},
    "other_unit_item": {"operator_other_unit", "admin"},
}

EXPECTED: dict[str, dict[str, set[str]]] = {
    "start_application": {"service": CITIZENS},
    "see_application": SEE_APP,
    "see_holder_data": {
        "app_by_holder": {
            "holder",
            *UNIT1_OPERATORS,
            "inspector_assigned",
            "inspector_of_unit",
            "unit_head",
            "admin",
        },
        "app_by_tenant": {
            "holder",
            *UNIT1_OPERATORS,
            "inspector_assigned",
            "inspector_of_unit",
            "unit_head",
            "admin",
        },
        "app_other": {
            "operator_other_unit",
            "inspector_assigned",
            "inspector_other_unit",
            "unit_head_other_unit",
            "admin",
        },
        "draft": set(),  # the applicant of this draft is not the holder; the holder does not own the draft
    },
    "download_receipt": SEE_APP,
    "download_invoice": {
        "app_by_holder": {"holder", *UNIT1_OPERATORS, "unit_head", "admin"},
        "app_by_tenant": {"applicant", "holder", *UNIT1_OPERATORS, "unit_head", "admin"},
        "app_other": {"operator_other_unit", "unit_head_other_unit", "admin"},
        "draft": {"applicant"},
    },
    "download_photo": SEE_APP,
    "download_original_photo": {
        "app_by_holder": {"unit_head", "admin"},
        "app_by_tenant": {"unit_head", "admin"},
        "app_other": {"unit_head_other_unit", "admin"},
    },
    "see_work_item": WORK,
    "claim": WORK,
    "complete": WORK,
    "release": WORK,
    "reassign": {
        "operator_item": {"unit_head", "admin"},
        "field_item": {"unit_head", "admin"},
        "other_unit_item": {"unit_head_other_unit", "admin"},
    },
    "escalate": {
        "operator_item": {*UNIT1_OPERATORS, "admin"},
        "field_item": {"inspector_assigned", "inspector_of_unit", "admin"},
        "other_unit_item": {"operator_other_unit", "admin"},
    },
    "see_queue": {
        "review_queue": {*UNIT1_OPERATORS, "unit_head", "admin"},
        "inspection_queue": {"inspector_of_unit", "unit_head", "admin"},
    },
    "see_field_tasks": {
        "inspection_queue": {"inspector_assigned", "inspector_of_unit", "inspector_other_unit"}
    },
    "see_unit_dashboard": {"unit": {"unit_head"}},
    "view_instance": {"instance": {*UNIT1_OPERATORS, "unit_head", "admin"}},
    "read_audit": {"unit_audit": {"unit_head", "admin"}, "all_audit": {"admin"}},
    "edit_diagram": {"diagram": ANALYSTS},
    "validate_diagram": {"diagram": ANALYSTS},
    "deploy_diagram": {"diagram": ANALYSTS},
    "migrate_diagram": {"diagram": ANALYSTS},
    "run_scenario": {"diagram": ANALYSTS},
    "read_analytics": {
        "unit_analytics": {"analyst", "admin", "unit_head"},
        "all_analytics": ANALYSTS,
    },
    "call_api": {"api": {"api_operator"}},
    "view_incidents": {"unit_incident": {"unit_head", "admin"}, "all_incidents": {"admin"}},
    "act_on_incident": {"unit_incident": {"unit_head", "admin"}, "all_incidents": {"admin"}},
    "manage_accounts": {"accounts": {"admin"}},
    "read_billing_feed": {"billing_feed": {"admin"}},
    # accepting a flagged application without an inspector's reading: the unit's operators and head
    "override_conflict": {
        "app_by_holder": UNIT1_OPERATORS | {"unit_head"},
        "app_by_tenant": UNIT1_OPERATORS | {"unit_head"},
        "app_other": {"operator_other_unit", "unit_head_other_unit"},
    },
}


def test_every_action_of_the_policy_is_in_the_expected_table():
    assert set(policy.ACTIONS) == set(EXPECTED)


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_policy_table(action):
    """Every person × every resource for this action: allowed exactly where the table says."""
    allowed = {
        res: {name for name, person in PEOPLE.items() if policy.allows(person, action, resource)}
        for res, resource in RESOURCES.items()
    }
    assert {res: people for res, people in allowed.items() if people} == {
        res: people for res, people in EXPECTED[action].items() if people
    }


def test_unknown_action_and_unknown_role_are_refused():
    assert not policy.allows(PEOPLE["admin"], "drop_database", RESOURCES["diagram"])
    assert not policy.allows(
        Actor(id=50, role="superuser", label="-"), "edit_diagram", RESOURCES["diagram"]
    )
    assert not policy.allows(
        Actor(id=None, role="system", label="system"), "see_holder_data", RESOURCES["app_by_holder"]
    )


def test_require_raises_denied_naming_the_action():
    policy.require(PEOPLE["admin"], "manage_accounts", RESOURCES["accounts"])
    with pytest.raises(Denied, match="claim on work_item"):
        policy.require(PEOPLE["admin"], "claim", RESOURCES["citizen_item"])


def test_a_citizen_without_fin_is_never_a_holder():
    nameless = Actor(id=5, role="citizen", label="-")
    assert not policy.allows(
        nameless, "see_holder_data", Resource("application", owner_id=5, unit_id=1)
    )
