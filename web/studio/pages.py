"""The analyst studio's pages: versions, the draft in the modeler, upload and download, diff, migration.

Only analysts and admins see anything under ``/studio``; for everyone else it does not exist
(404). The JSON endpoints the modeler calls are in :mod:`web.studio.api`. The draft is a row
(``process_draft``), so it survives sign-out and is shared by the analysts of a process.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from engine import policy, versions
from engine.diagrams import MAX_DIAGRAM_BYTES, parse_xml
from engine.errors import DiagramError, EngineError
from engine.models import Account, Draft, ProcessInstance, ProcessVersion
from engine.scenarios import ScenarioError
from engine.scenarios import load as load_scenarios
from web.auth import current_actor, login_required
from web.db import get_db, get_system
from web.i18n import describe_diagram_error
from web.route_policy import allowed, require
from web.security import CSP
from web.studio.lint_texts import lint_translations
from workflow.normalise import record_id
from workflow.process import PROCESS_ID

bp = Blueprint("studio", __name__, url_prefix="/studio", template_folder="templates")
DIAGRAM = policy.Resource("diagram")


def _diagram(actor, **_args) -> policy.Resource:
    return DIAGRAM


SCENARIOS_FILE = f"{PROCESS_ID}.scenarios.json"
MAX_FILES = 10


# bpmn-js, diagram-js and dmn-js write style attributes from markup strings (canvas containers,
# overlays, the hidden SVG that measures label text), which 'style-src self' blocks and which the
# modeler needs. Studio pages alone allow inline *styles*; scripts stay 'self' only, and studio
# pages are shown to analysts and admins only.
STUDIO_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


@bp.before_request
@login_required
def only_analysts():
    require(policy.EDIT_DIAGRAM, DIAGRAM)  # every studio page (each also declares its own action)
    g.csp = STUDIO_CSP


def get_draft(db, process_id: str = PROCESS_ID) -> Draft:
    """The process's draft; the first time, a copy of the newest version."""
    draft = db.scalar(select(Draft).where(Draft.process_id == process_id))
    if draft is None:
        latest = get_system().specs.latest(db, process_id)
        draft = Draft(
            process_id=process_id,
            files=dict(latest.files),
            scenarios=list(latest.scenarios or []),
            based_on_id=latest.id,
            updated_by_id=current_user.id,
        )
        db.add(draft)
        db.flush()
    return draft


def version_or_404(db, number: int) -> ProcessVersion:
    row = db.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_id == PROCESS_ID, ProcessVersion.version == number
        )
    )
    if row is None:
        abort(404)
    return row


@bp.get("")
@allowed(policy.EDIT_DIAGRAM, _diagram)
def index():
    db = get_db()
    rows = db.execute(
        select(ProcessVersion, Account.display_name)
        .outerjoin(Account, Account.id == ProcessVersion.deployed_by_id)
        .where(ProcessVersion.process_id == PROCESS_ID)
        .order_by(ProcessVersion.version.desc())
    ).all()
    running = dict(
        db.execute(
            select(ProcessInstance.version_id, func.count(ProcessInstance.id))
            .where(ProcessInstance.status.in_(("waiting", "running")))
            .group_by(ProcessInstance.version_id)
        ).all()
    )
    draft = db.scalar(select(Draft).where(Draft.process_id == PROCESS_ID))
    return render_template("studio/index.html", rows=rows, running=running, draft=draft)


@bp.get("/draft")
@allowed(policy.EDIT_DIAGRAM, _diagram)
def draft_page():
    db = get_db()
    draft = get_draft(db)
    db.commit()
    return render_template(
        "studio/modeler.html",
        draft=draft,
        files=sorted(draft.files),
        readonly=False,
        source_url=url_for("studio_api.draft_json"),
        lint_texts=lint_translations(),
    )


@bp.get("/versions/<int:number>")
@allowed(policy.EDIT_DIAGRAM, _diagram)
def version_page(number: int):
    db = get_db()
    row = version_or_404(db, number)
    deployer = db.get(Account, row.deployed_by_id) if row.deployed_by_id else None
    who = deployer.display_name if deployer else None
    return render_template(
        "studio/modeler.html",
        version=row,
        who=who,
        files=sorted(row.files),
        readonly=True,
        source_url=url_for("studio_api.version_json", number=number),
        lint_texts=lint_translations(),
    )


@bp.post("/versions/<int:number>/edit")
@allowed(policy.EDIT_DIAGRAM, _diagram)
def edit_version(number: int):
    """Start the draft again from a deployed version (the current draft is replaced)."""
    db = get_db()
    row = version_or_404(db, number)
    draft = get_draft(db)
    draft.files, draft.scenarios, draft.based_on_id = (
        dict(row.files),
        list(row.scenarios or []),
        row.id,
    )
    draft.updated_by_id = current_user.id
    db.commit()
    flash(_("The draft is now a copy of version %(n)s.", n=number), "success")
    return redirect(url_for("studio.draft_page"))


def _download(name: str, content: str) -> Response:
    media = "application/json" if name.endswith(".json") else "application/xml"
    return Response(
        content, mimetype=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.get("/draft/files/<name>")
@allowed(policy.EDIT_DIAGRAM, _diagram)
def draft_file(name: str):
    draft = get_draft(get_db())
    if name == SCENARIOS_FILE:
        return _download(name, _scenarios_text(draft.scenarios))
    if name not in draft.files:
        abort(404)
    return _download(name, draft.files[name])


@bp.get("/versions/<int:number>/files/<name>")
@allowed(policy.EDIT_DIAGRAM, _diagram)
def version_file(number: int, name: str):
    row = version_or_404(get_db(), number)
    if name == SCENARIOS_FILE:
        return _download(name, _scenarios_text(row.scenarios))
    if name not in row.files:
        abort(404)
    return _download(name, row.files[name])


def _scenarios_text(scenarios: list) -> str:
    import json

    return json.dumps({"scenarios": scenarios or []}, indent=2, ensure_ascii=False) + "\n"


@bp.post("/draft/upload")
@allowed(policy.EDIT_DIAGRAM, _diagram)
def upload():
    """Replace or add one file of the draft: a .bpmn or .dmn diagram, or the scenarios file."""
    db = get_db()
    draft = get_draft(db)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a .bpmn, .dmn or .scenarios.json file to upload."), "error")
        return redirect(url_for("studio.draft_page"))
    name = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    try:
        data = upload.stream.read(MAX_DIAGRAM_BYTES + 1)
    finally:
        upload.close()  # a large upload is spooled to a temporary file
    try:
        if len(data) > MAX_DIAGRAM_BYTES:
            raise DiagramError(
                _("The file is larger than %(mb)s MB.", mb=MAX_DIAGRAM_BYTES // 1024 // 1024)
            )
        if name.endswith(".scenarios.json"):
            draft.scenarios = load_scenarios(data)
        elif name.endswith((".bpmn", ".dmn")) and _safe_name(name):
            parse_xml(data, name)  # entities, DTDs and network refused before anything is kept
            text = data.decode("utf-8")
            if name not in draft.files and len(draft.files) >= MAX_FILES:
                raise DiagramError(_("A process has at most %(n)s files.", n=MAX_FILES))
            draft.files = {**draft.files, name: text}
        else:
            raise DiagramError(_("Only .bpmn, .dmn and .scenarios.json files can be uploaded."))
    except (DiagramError, ScenarioError, UnicodeDecodeError) as err:
        db.rollback()
        flash(
            _("The file %(name)s was not kept: %(reason)s", name=name, reason=_reason(err)), "error"
        )
        return redirect(url_for("studio.draft_page"))
    draft.updated_by_id = current_user.id
    db.commit()
    flash(_("The file %(name)s is in the draft. Check it before deploying.", name=name), "success")
    return redirect(url_for("studio.draft_page"))


def _safe_name(name: str) -> bool:
    stem = name.rsplit(".", 1)[0]
    return bool(stem) and len(name) <= 100 and all(c.isalnum() or c in "_-." for c in name)


def _reason(err: Exception) -> str:
    if isinstance(err, UnicodeDecodeError):
        return _("the file is not UTF-8 text")
    if isinstance(err, DiagramError):
        return describe_diagram_error(err)
    return str(err)


@bp.get("/diff")
@allowed(policy.EDIT_DIAGRAM, _diagram)
def diff_page():
    db = get_db()
    numbers = list(
        db.scalars(
            select(ProcessVersion.version)
            .where(ProcessVersion.process_id == PROCESS_ID)
            .order_by(ProcessVersion.version)
        )
    )
    a = record_id(request.args.get("from")) or (numbers[-2] if len(numbers) > 1 else numbers[-1])
    b = record_id(request.args.get("to")) or numbers[-1]
    old, new = version_or_404(db, a), version_or_404(db, b)
    result = versions.diff(old.files, new.files)
    return render_template(
        "studio/diff.html", numbers=numbers, old=old, new=new, diff=result, ids=result.to_dict()
    )


@bp.get("/migrate")
@allowed(policy.MIGRATE_DIAGRAM, _diagram)
def migrate_page():
    db = get_db()
    numbers = list(
        db.scalars(
            select(ProcessVersion.version)
            .where(ProcessVersion.process_id == PROCESS_ID)
            .order_by(ProcessVersion.version)
        )
    )
    source_n = record_id(request.args.get("source"))
    target_n = record_id(request.args.get("target")) or numbers[-1]
    plan, error, source, target = None, None, None, None
    if source_n:
        source, target = version_or_404(db, source_n), version_or_404(db, target_n)
        try:
            plan = versions.dry_run(db, get_system().runtime, source, target)
        except EngineError as err:
            error = str(err)
    return render_template(
        "studio/migrate.html",
        numbers=numbers,
        source=source,
        target=target,
        plan=plan,
        error=error,
        source_n=source_n,
        target_n=target_n,
    )


__all__ = ["bp", "current_actor", "get_draft"]
