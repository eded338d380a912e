"""JSON endpoints behind the studio's modeler: load and save the draft, check it, deploy, migrate.

Every change needs the CSRF token in the ``X-CSRFToken`` header (Flask-WTF checks it). Deploy
and migration write audit events; each instance moves in a unit of work of its own.
"""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from engine import policy, versions
from engine.diagrams import MAX_DIAGRAM_BYTES, parse_xml
from engine.errors import DiagramError, EngineError
from engine.models import ProcessInstance, ProcessVersion
from engine.scenarios import ScenarioError, validate_shape
from web.auth import current_actor, login_required
from web.db import get_db, get_system
from web.i18n import describe_diagram_error, diagram_problem, translate
from web.route_policy import allowed, require
from web.studio.pages import DIAGRAM, MAX_FILES, _diagram, _safe_name, get_draft, version_or_404
from workflow import normalise
from workflow.normalise import record_id
from workflow.operations import OPERATIONS
from workflow.process import PROCESS_ID

bp = Blueprint("studio_api", __name__, url_prefix="/studio/api", template_folder="templates")
MAX_BATCH = 50


@bp.before_request
@login_required
def only_analysts():
    require(policy.EDIT_DIAGRAM, DIAGRAM)


def _problem(err: DiagramError) -> dict:
    return {
        "element_id": err.element_id,
        "message": diagram_problem(err),
        "file": err.file,
        "line": err.line,
    }


def _body() -> dict:
    """The JSON object sent, or {} for anything else: not JSON, not an object, nested too deeply."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        return {}
    return body if isinstance(body, dict) else {}


def _error(message: str, status: int = 400, **extra):
    return jsonify({"error": message, **extra}), status


@bp.get("/draft")
@allowed(policy.EDIT_DIAGRAM, _diagram)
def draft_json():
    db = get_db()
    draft = get_draft(db)
    db.commit()
    return jsonify({"files": draft.files, "scenarios": draft.scenarios, "readonly": False})


@bp.get("/versions/<int:number>")
@allowed(policy.EDIT_DIAGRAM, _diagram)
def version_json(number: int):
    row = version_or_404(get_db(), number)
    return jsonify(
        {
            "files": row.files,
            "scenarios": row.scenarios or [],
            "readonly": True,
            "version": row.version,
        }
    )


@bp.put("/draft")
@allowed(policy.EDIT_DIAGRAM, _diagram)
def save_draft():
    body = _body()
    if not isinstance(body, dict) or not isinstance(body.get("files"), dict):
        return _error(_("The draft could not be read."))
    files = body["files"]
    if not files or len(files) > MAX_FILES:
        return _error(_("A process has between 1 and %(n)s files.", n=MAX_FILES))
    try:
        for name, text in files.items():
            if (
                not isinstance(text, str)
                or not name.endswith((".bpmn", ".dmn"))
                or not _safe_name(name)
            ):
                raise DiagramError(
                    _("Only .bpmn and .dmn files can be part of a process."), file=name
                )
            if len(text.encode("utf-8")) > MAX_DIAGRAM_BYTES:
                raise DiagramError(
                    _("The file is larger than %(mb)s MB.", mb=MAX_DIAGRAM_BYTES // 1024 // 1024),
                    file=name,
                )
            parse_xml(text, name)
        scenarios = body.get("scenarios", [])
        validate_shape(scenarios)
    except DiagramError as err:
        return _error(describe_diagram_error(err), problems=[_problem(err)])
    except ScenarioError as err:
        return _error(str(err))
    db = get_db()
    draft = get_draft(db)
    draft.files, draft.scenarios, draft.updated_by_id = (
        dict(files),
        list(scenarios),
        current_user.id,
    )
    db.commit()
    return jsonify({"saved": True})


@bp.post("/check")
@allowed(
    policy.VALIDATE_DIAGRAM, _diagram
)  # and runs the scenarios (run_scenario: the same people)
def check():
    """Validation with element-level problems, then every scenario against the draft in memory."""
    db = get_db()
    draft = get_draft(db)
    try:
        result = versions.check_draft(
            get_system().specs, OPERATIONS, PROCESS_ID, draft.files, draft.scenarios
        )
    except ScenarioError as err:
        return _error(str(err))
    return jsonify(
        {
            "ok": result.ok,
            "problems": [_problem(p) for p in result.problems],
            "results": [r.to_dict() for r in result.results],
        }
    )


@bp.post("/deploy")
@allowed(policy.DEPLOY_DIAGRAM, _diagram)
def deploy():
    body = _body()
    try:
        reason = normalise.text(str(body.get("reason") or ""), multiline=True)[:1000]
    except normalise.Refused as err:
        return _error(translate(err.message))
    db = get_db()
    draft = get_draft(db)
    system = get_system()
    try:
        version = versions.deploy(
            db,
            system.specs,
            OPERATIONS,
            PROCESS_ID,
            draft.files,
            draft.scenarios,
            actor=current_actor(),
            reason=reason,
        )
    except DiagramError as err:
        db.rollback()
        return _error(describe_diagram_error(err), problems=[_problem(err)])
    except (EngineError, ScenarioError) as err:
        db.rollback()
        return _error(str(err))
    draft.based_on_id = version.id
    db.commit()
    flash(
        _("Version %(n)s is deployed. New applications start on it.", n=version.version), "success"
    )
    return jsonify({"version": version.version, "redirect": url_for("studio.index")})


@bp.post("/migrate")
@allowed(policy.MIGRATE_DIAGRAM, _diagram)
def migrate():
    """Move a batch of waiting instances from one version to another; the page sends batches."""
    body = _body()
    db = get_db()
    given = body.get("ids", [])
    numbers = [record_id(body.get("source")), record_id(body.get("target"))]
    ids = [record_id(i) for i in given[:MAX_BATCH]] if isinstance(given, list) else [None]
    if None in numbers or None in ids:
        return _error(_("Choose the versions and the instances to move."))
    source, target = version_or_404(db, numbers[0]), version_or_404(db, numbers[1])
    if source.id == target.id:
        return _error(_("Choose two different versions."))
    allowed = set(
        db.scalars(
            select(ProcessInstance.id).where(
                ProcessInstance.id.in_(ids), ProcessInstance.version_id == source.id
            )
        )
    )
    source_id, target_id = source.id, target.id
    db.rollback()  # each instance moves in its own unit of work
    system = get_system()
    actor = current_actor()
    results, moved, failed = [], [], {}
    for instance_id in ids:
        if instance_id not in allowed:
            ok, message = False, _("it is not an instance of version %(n)s", n=body.get("source"))
        else:
            ok, message = versions.migrate_one(
                system.sessions, system.runtime, instance_id, target_id, actor
            )
        (moved.append(instance_id) if ok else failed.__setitem__(instance_id, message))
        results.append({"id": instance_id, "ok": ok, "message": message})
    source, target = db.get(ProcessVersion, source_id), db.get(ProcessVersion, target_id)
    versions.record_migration(db, actor, source, target, moved, failed)
    db.commit()
    return jsonify({"results": results})
