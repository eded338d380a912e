"""Analysts: the process's versions, validating a diagram with its scenarios, a migration's dry run.
Scope ``studio``; the policy's diagram actions, as in the studio pages (``engine.versions``)."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from engine import policy, versions
from engine.diagrams import MAX_DIAGRAM_BYTES
from engine.errors import DiagramError, EngineError
from engine.models import ProcessVersion
from engine.scenarios import ScenarioError
from web.api import idempotency, tokens
from web.api.datatypes import UtcDateTime
from web.api.idempotency import IdempotencyHeaderSchema
from web.api.problems import problem
from web.db import get_db, get_system
from web.i18n import diagram_problem
from workflow.operations import OPERATIONS
from workflow.process import PROCESS_ID

blp = Blueprint("api_studio", __name__, description="Analysts' studio (scope `studio`)")
MAX_FILES = 10


class VersionSchema(Schema):
    version = fields.Integer(required=True)
    process_id = fields.String(required=True)
    content_hash = fields.String(required=True)
    deployed_at = UtcDateTime(required=True)
    reason = fields.String(required=True)
    files = fields.List(fields.String(), required=True)


class DiagramFile(Schema):
    name = fields.String(
        required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,94}\.(bpmn|dmn)$")
    )
    xml = fields.String(required=True, validate=validate.Length(max=MAX_DIAGRAM_BYTES))


class DiagramFiles(Schema):
    files = fields.List(
        fields.Nested(DiagramFile),
        required=True,
        validate=validate.Length(min=1, max=MAX_FILES),
        metadata={"description": "The BPMN and DMN files of the process"},
    )
    scenarios = fields.List(fields.Dict(), load_default=list, validate=validate.Length(max=100))


class ProblemItem(Schema):
    message = fields.String(required=True)
    element_id = fields.String(allow_none=True)
    file = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True)


class ScenarioResultSchema(Schema):
    name = fields.String(required=True)
    passed = fields.Boolean(required=True)
    message = fields.String(allow_none=True)


class CheckSchema(Schema):
    ok = fields.Boolean(required=True)
    problems = fields.List(fields.Nested(ProblemItem), required=True)
    results = fields.List(fields.Nested(ScenarioResultSchema), required=True)


class DryRunArgs(Schema):
    source = fields.Integer(required=True, validate=validate.Range(min=1, max=2_147_483_647))
    target = fields.Integer(required=True, validate=validate.Range(min=1, max=2_147_483_647))


class PlanEntrySchema(Schema):
    instance_id = fields.Integer(required=True)
    movable = fields.Boolean(required=True)
    waiting_at = fields.List(fields.String(), required=True)
    reasons = fields.List(fields.String(), required=True)


class PlanSchema(Schema):
    movable = fields.Integer(required=True)
    blocked = fields.Integer(required=True)
    instances = fields.List(fields.Nested(PlanEntrySchema), required=True)


def _may(action: str) -> bool:
    return policy.allows(tokens.actor(), action, policy.Resource("diagram"))


def _problem(err: DiagramError) -> dict:
    return {
        "message": diagram_problem(err),
        "element_id": err.element_id,
        "file": err.file,
        "line": err.line,
    }


@blp.route("/versions")
@tokens.requires("studio")
@blp.response(200, VersionSchema(many=True))
def list_versions():
    """Every deployed version of the meter-reading process, newest first."""
    if not _may(policy.VALIDATE_DIAGRAM):
        return problem(403, "This account may not read diagrams.", kind="role")
    rows = get_db().scalars(
        select(ProcessVersion)
        .where(ProcessVersion.process_id == PROCESS_ID)
        .order_by(ProcessVersion.version.desc())
    )
    return [
        {
            "version": v.version,
            "process_id": v.process_id,
            "content_hash": v.content_hash,
            "deployed_at": v.deployed_at,
            "reason": v.reason,
            "files": sorted(v.files),
        }
        for v in rows
    ]


@blp.route("/diagrams/validate", methods=["POST"])
@tokens.requires("studio")
@blp.arguments(DiagramFiles)
@blp.response(200, CheckSchema)
def validate_diagram(body: dict):
    """Schema, parse and saygac's checks, then every scenario given, in memory; nothing is stored."""
    if not (_may(policy.VALIDATE_DIAGRAM) and _may(policy.RUN_SCENARIO)):
        return problem(403, "This account may not validate diagrams.", kind="role")
    try:
        files = {f["name"]: f["xml"] for f in body["files"]}
        result = versions.check_draft(
            get_system().specs, OPERATIONS, PROCESS_ID, files, body["scenarios"]
        )
    except (ScenarioError, DiagramError) as err:
        return problem(422, str(err), errors=[{"field": "scenarios", "message": str(err)}])
    return {
        "ok": result.ok,
        "problems": [_problem(p) for p in result.problems],
        "results": [
            {"name": r.name, "passed": r.passed, "message": getattr(r, "message", None)}
            for r in result.results
        ],
    }


@blp.route("/migrations/dry-run", methods=["POST"])
@tokens.requires("studio")
@blp.arguments(DryRunArgs)
@blp.response(200, PlanSchema)
@blp.alt_response(404, description="No such version")
@blp.alt_response(409, description="Source and target are the same version")
def migration_dry_run(body: dict):
    """Which waiting instances of version ``source`` could move to version ``target``, and why not."""
    if not _may(policy.MIGRATE_DIAGRAM):
        return problem(403, "This account may not migrate instances.", kind="role")
    db = get_db()
    found = {
        v.version: v
        for v in db.scalars(
            select(ProcessVersion).where(
                ProcessVersion.process_id == PROCESS_ID,
                ProcessVersion.version.in_((body["source"], body["target"])),
            )
        )
    }
    missing = [name for name in ("source", "target") if body[name] not in found]
    if missing:
        return problem(
            404,
            f"No such version: {', '.join(str(body[name]) for name in missing)}.",
            errors=[{"field": name, "message": "no such version"} for name in missing],
        )
    try:
        plan = versions.dry_run(
            db, get_system().runtime, found[body["source"]], found[body["target"]]
        )
    except EngineError as err:  # the same version twice: nothing to compare
        return problem(409, str(err), errors=[{"field": "target", "message": str(err)}])
    return {
        "movable": sum(p.movable for p in plan),
        "blocked": sum(not p.movable for p in plan),
        "instances": [
            {
                "instance_id": p.instance_id,
                "movable": p.movable,
                "waiting_at": p.waiting_at,
                "reasons": p.reasons,
            }
            for p in plan
        ],
    }


class DeployBody(DiagramFiles):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "Why this version: shown in the version list and the audit"},
    )


class DeployedSchema(Schema):
    version = fields.Integer(required=True)
    content_hash = fields.String(required=True)


@blp.route("/versions", methods=["POST"])
@tokens.requires("studio")
@blp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(DeployBody)
@blp.response(201, DeployedSchema)
@blp.alt_response(409, description="These files are already a version")
@blp.alt_response(422, description="A problem in the diagram, or a scenario fails (named)")
def deploy(body: dict, idempotency_key: str | None = None):
    """Deploy a new version: with a reason, no problems and every scenario passing; honours ``Idempotency-Key``."""
    actor = tokens.actor()
    if not _may(policy.DEPLOY_DIAGRAM):
        return problem(403, "This account may not deploy diagrams.", kind="role")
    files = {f["name"]: f["xml"] for f in body["files"]}

    def create():
        db = get_db()
        try:
            version = versions.deploy(
                db,
                get_system().specs,
                OPERATIONS,
                PROCESS_ID,
                files,
                body["scenarios"],
                actor=actor,
                reason=body["reason"].strip(),
            )
        except DiagramError as err:
            return problem(422, str(err), errors=[{"field": "files", "message": str(err)}])
        except ScenarioError as err:
            return problem(422, str(err), errors=[{"field": "scenarios", "message": str(err)}])
        except EngineError as err:  # already a version, a failing scenario, no reason
            status = 409 if "already version" in str(err) else 422
            return problem(
                status,
                str(err),
                errors=[{"field": "files" if status == 409 else "scenarios", "message": str(err)}],
            )
        return {"version": version.version, "content_hash": version.content_hash}

    return idempotency.once(tokens.account_id(), idempotency_key, 201, create)
