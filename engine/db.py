"""Database base class, engine and session factory.

Engine code flushes; the edge (a web request, a worker job, a CLI command) commits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast, overload

from sqlalchemy import JSON, CursorResult, MetaData, Result, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        dict: JSON,
        list: JSON,
        dict[str, Any]: JSON,
        dict[str, str]: JSON,
        list[Any]: JSON,
    }


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(
    url: str,
    echo: bool = False,
    pool_size: int = 5,
    *,
    connect_timeout: float = 5,
    statement_timeout: float = 30,
    lock_timeout: float = 10,
    pool_timeout: float = 10,
) -> Engine:
    """The engine; on PostgreSQL every connection gets a connect, statement and lock timeout (seconds,
    0 = none) and waiting for a pooled connection is bounded too, so a database in trouble fails a
    request quickly (the web layer answers 503) instead of hanging it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(
            dbapi_conn: Any, _record: Any
        ) -> None:  # pragma: no branch - runs per connection
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        return engine
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql"):
        options = f"-c statement_timeout={int(statement_timeout * 1000)} -c lock_timeout={int(lock_timeout * 1000)}"
        connect_args = {"options": options}
        if connect_timeout:
            connect_args["connect_timeout"] = max(1, int(connect_timeout))
    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        pool_pre_ping=True,
        pool_timeout=pool_timeout,
        connect_args=connect_args,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
@overload
def as_utc(value: datetime | None) -> datetime | None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns; everything is stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched (SQLAlchemy types ``Session.execute``'s result as a plain
    ``Result``; for a DML statement it is a ``CursorResult``)."""
    return cast(CursorResult[Any], result).rowcount
