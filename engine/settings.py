"""Typed settings: defaults in ``config.toml``, overridden by environment variables.

Every setting is declared once, here or in the dataclass of the package that owns it,
with its type and default. The file ``config.toml`` at the project root (or the file
named by ``SAYGAC_CONFIG``) supplies values; an environment variable
``SAYGAC_<SECTION>__<KEY>`` (upper case) overrides any of them, e.g.
``SAYGAC_DATABASE__URL=postgresql+psycopg://saygac@db/saygac``.

Unknown names fail closed: a section or key that nothing declares, in the file or in an
environment variable, stops the program with a "did you mean" hint. ``SECTIONS`` names every
section (those of this module and those other packages declare); the mode defaults to
``production``: the embedded mode runs only when a settings file or ``saygac serve`` asks for it.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "SAYGAC_"


class SettingsError(ValueError):
    """A setting has a value of the wrong type or an unknown name."""


# Sections other packages declare with their own dataclass, read through ``Settings.section``.
PACKAGE_SECTIONS = (
    "login",
    "sessions",  # engine.identity, engine.sessions
    "asan",
    "card",
    "oidc_egov",
    "oidc_staff",  # the login methods (web)
    "plausibility",
    "photos",
    "subscriber_code",
    "subscriber_lookup",
    "review",
    "fields",  # workflow.services
    "operations",  # web.metrics
    "events",  # engine.webhooks
)
if typing.TYPE_CHECKING:
    from _typeshed import DataclassInstance

_S = typing.TypeVar("_S", bound="DataclassInstance")  # a settings dataclass
MODES = ("production", "embedded")


def _hint(name: str, known: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class AppSettings:
    mode: str = "production"  # "production", or "embedded" (SQLite, in-process jobs) when asked for
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:5000"
    demo_data: bool = True
    default_locale: str = "az"
    locales: tuple[str, ...] = ("az", "en", "ru")
    timezone: str = "Asia/Baku"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///var/saygac.sqlite3"
    echo: bool = False
    pool_size: int = 5
    # PostgreSQL: every connection gets these, so a hanging or refusing database costs a request
    # seconds, not a gunicorn worker (keep gunicorn's --timeout above statement_timeout_seconds)
    connect_timeout_seconds: int = 5
    statement_timeout_seconds: int = 30
    lock_timeout_seconds: int = 10
    pool_timeout_seconds: int = 10


@dataclass(frozen=True)
class RedisSettings:
    url: str = "redis://127.0.0.1:6379/0"
    connect_timeout_seconds: float = 2.0
    socket_timeout_seconds: float = 5.0


@dataclass(frozen=True)
class FileSettings:
    root: str = "var/files"
    font_dir: str = "/usr/share/fonts/truetype/dejavu"


@dataclass(frozen=True)
class MailSettings:
    transport: str = "outbox_dir"  # "outbox_dir" writes .eml files; "smtp" sends
    outbox_dir: str = "var/mail"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: str = ""
    sender: str = "Azərsu e-xidmət <no-reply@saygac.invalid>"
    max_attempts: int = 5


@dataclass(frozen=True)
class JobSettings:
    runner: str = "inline"  # "inline" runs jobs in-process after commit; "rq" enqueues to Redis
    max_attempts: int = 3
    retry_delays_seconds: tuple[int, ...] = (10, 60, 300)
    timer_sweep_seconds: float = (
        5  # the sweep's pass: due timers, expired leases, jobs the queue lost
    )
    lease_seconds: int = 20  # a running job's lease, renewed every third of it while the job runs
    job_timeout_seconds: int = (
        900  # rq stops a job running longer (the lease then makes it due again)
    )
    dispatch_batch: int = 100  # jobs claimed per dispatch statement
    overdue_minutes: int = 15  # queued or running longer: shown on the incidents page


@dataclass(frozen=True)
class WorkSettings:
    lease_minutes: int = 30
    review_due_working_days: int = 2
    inspection_due_working_days: int = 3
    holidays: tuple[
        str, ...
    ] = ()  # extra days off (ISO dates) besides the public holidays of holiday_country
    working_days: tuple[
        str, ...
    ] = ()  # days made working by decree (e.g. a Saturday worked in exchange)
    holiday_country: str = "AZ"  # public holidays from the ``holidays`` package


@dataclass(frozen=True)
class Settings:
    app: AppSettings = field(default_factory=AppSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    files: FileSettings = field(default_factory=FileSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    jobs: JobSettings = field(default_factory=JobSettings)
    work: WorkSettings = field(default_factory=WorkSettings)
    raw: dict[str, typing.Any] = field(default_factory=dict, repr=False, compare=False)
    environ: typing.Mapping[str, str] | None = field(
        default=None, repr=False, compare=False
    )  # None: os.environ

    def section(self, name: str, cls: type[_S]) -> _S:
        """Build another package's typed settings dataclass from section ``name``."""
        return build_section(
            cls, name, self.raw.get(name, {}), os.environ if self.environ is None else self.environ
        )

    def path(self, value: str) -> Path:
        """A relative path setting is relative to the project root."""
        p = Path(value)
        return p if p.is_absolute() else PROJECT_ROOT / p

    @property
    def is_production(self) -> bool:
        return self.app.mode == "production"

    def value(self, section: str, key: str, default: typing.Any = None) -> typing.Any:
        """One setting as written (environment first, then the file), untyped, for checks across packages."""
        environ = os.environ if self.environ is None else self.environ
        return environ.get(
            f"{ENV_PREFIX}{section.upper()}__{key.upper()}",
            self.raw.get(section, {}).get(key, default),
        )


def _coerce(value: typing.Any, typ: typing.Any, where: str) -> typing.Any:
    origin = typing.get_origin(typ)
    if origin is tuple:
        (item_type, *_rest) = typing.get_args(typ)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise SettingsError(f"{where}: expected a list")
        return tuple(_coerce(v, item_type, where) for v in value)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        if value is None or value == "":
            return None
        return _coerce(value, args[0], where)
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{where}: expected true or false, got {value!r}")
    if typ in (int, float):
        try:
            return typ(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{where}: expected a number, got {value!r}") from None
    if typ is str:
        return str(value)
    return value


def build_section(
    cls: type[_S], name: str, values: dict[str, typing.Any], environ: typing.Mapping[str, str]
) -> _S:
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    prefix = f"{ENV_PREFIX}{name.upper()}__"
    for key in sorted(set(values) - known):
        raise SettingsError(f"[{name}] has an unknown setting {key!r}{_hint(key, known)}")
    for env_key in sorted(k for k in environ if k.startswith(prefix)):
        key = env_key.removeprefix(prefix).lower()
        if key not in known:
            raise SettingsError(
                f"{env_key} names an unknown setting [{name}] {key!r}{_hint(key, known)}"
            )
    kwargs: dict[str, typing.Any] = {}
    for f in dataclasses.fields(cls):
        env_key = f"{ENV_PREFIX}{name.upper()}__{f.name.upper()}"
        if env_key in environ:
            kwargs[f.name] = _coerce(environ[env_key], hints[f.name], env_key)
        elif f.name in values:
            kwargs[f.name] = _coerce(values[f.name], hints[f.name], f"[{name}] {f.name}")
    return cls(**kwargs)


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: typing.Mapping[str, str] | None = None,
    overrides: dict[str, dict[str, typing.Any]] | None = None,
) -> Settings:
    """Read settings from ``path`` (or ``SAYGAC_CONFIG``, or ``config.toml``), then the environment.

    ``overrides`` (section → key → value) is applied over the file, for tests and tools.
    """
    environ = os.environ if environ is None else environ
    config_path = Path(path or environ.get(f"{ENV_PREFIX}CONFIG") or PROJECT_ROOT / "config.toml")
    raw: dict[str, typing.Any] = {}
    if config_path.exists():
        with open(config_path, "rb") as fh:
            raw = tomllib.load(fh)
    for section, values in (overrides or {}).items():
        raw.setdefault(section, {}).update(values)
    known = [
        f.name for f in dataclasses.fields(Settings) if f.name not in ("raw", "environ")
    ] + list(PACKAGE_SECTIONS)
    for section in sorted(raw):
        if section not in known:
            raise SettingsError(f"unknown settings section [{section}]{_hint(section, known)}")
    for env_key in sorted(k for k in environ if k.startswith(ENV_PREFIX) and "__" in k):
        section = env_key.removeprefix(ENV_PREFIX).split("__", 1)[0].lower()
        if section not in known:
            raise SettingsError(
                f"{env_key} names an unknown settings section [{section}]{_hint(section, known)}"
            )
    sections: dict[str, typing.Any] = {}
    for f in dataclasses.fields(Settings):
        if f.name in ("raw", "environ"):
            continue
        sections[f.name] = build_section(
            typing.get_type_hints(Settings)[f.name], f.name, raw.get(f.name, {}), environ
        )
    if sections["app"].mode not in MODES:
        raise SettingsError(
            f"[app] mode must be one of {', '.join(MODES)}, not {sections['app'].mode!r}"
            f"{_hint(sections['app'].mode, MODES)}"
        )
    return Settings(**sections, raw=raw, environ=None if environ is os.environ else environ)
