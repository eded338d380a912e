"""The ``saygac`` command: set up the database, seed demo data, run the web app, the worker or the sweep."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import func, select

from engine import logs
from engine.models import Unit
from engine.schema import upgrade
from engine.settings import load_settings


def _system(settings):
    from workflow.system import build_system

    return build_system(settings)


def cmd_migrate(settings, _args) -> int:
    """Bring the schema up to date and deploy the shipped diagrams (a new version if they changed)."""
    if settings.database.url.startswith("sqlite:///"):
        settings.path(settings.database.url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    upgrade(settings.database.url)
    system = _system(settings)
    with system.sessions() as session:
        version = system.deploy_shipped(session)
        session.commit()
        print(f"database up to date; process meter_reading at version {version.version}")
    return cmd_check(settings, _args, system)


def cmd_check(settings, _args, system=None) -> int:
    """Production refusals: every unsafe setting, and demo accounts in the database. Run it at each
    deploy (the web tier itself starts while the database is down and checks only settings then)."""
    from engine import safety

    system = system or _system(settings)
    with system.sessions() as session:
        found = safety.problems(settings, session)
    for problem in found:
        print(f"unsafe for production: {problem}", file=sys.stderr)
    if not found and settings.is_production:
        print("production checks passed")
    return 1 if found else 0


def cmd_seed_demo(settings, args) -> int:
    from workflow.demo import demo_readme_table, seed_demo

    if settings.is_production:
        print("demo data is never loaded in production mode", file=sys.stderr)
        return 2
    system = _system(settings)
    with system.sessions() as session:
        if session.scalar(select(func.count(Unit.id))):
            print("demo data: already present")
            return 0
        summary = seed_demo(session, today=system.services.today(), subscribers=args.subscribers)
        session.commit()
    print(demo_readme_table(summary))
    return 0


def cmd_serve(settings, args) -> int:
    """The embedded default: migrate, seed demo data once, then serve with jobs run in-process."""
    from engine import safety

    refused = safety.serve_problems(settings, args.host)
    if refused:
        print("\n".join(refused), file=sys.stderr)
        return 2
    logs.configure(json_lines=False)
    cmd_migrate(settings, args)
    if settings.app.demo_data and not settings.is_production:
        cmd_seed_demo(settings, argparse.Namespace(subscribers=1200))
    from web import create_app

    app = create_app(settings)
    print(
        f"\nsaygac is running: open http://{args.host}:{args.port}/  (demo logins above, password: demo)\n",
        flush=True,
    )
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


def cmd_worker(settings, _args) -> int:
    """Production: an rq worker on every saygac queue (the same as ``saygac-worker work``)."""
    from worker.cli import work

    return work(settings)


def cmd_sweep(settings, _args) -> int:
    """Production: the sweep, exactly one per installation (the same as ``saygac-worker sweep``)."""
    from worker.cli import sweep

    logs.configure(json_lines=settings.is_production)
    return sweep(settings)


def cmd_analytics_backfill(settings, _args) -> int:
    """Fill the process event log for instances that ran before it existed (safe to run again), then
    rebuild the analytics rollup."""
    from engine.eventlog_backfill import backfill

    system = _system(settings)
    with system.sessions() as session:
        written = backfill(session)
        session.commit()
        system.refresh_analytics(session, force=True)
        session.commit()
    print(f"process event log: {written} events written; analytics rollup rebuilt")
    return 0


def cmd_token(settings, args) -> int:
    """Personal access tokens for the API: create (printed once), list, revoke."""
    from datetime import timedelta

    from engine import api_access
    from engine.db import as_utc
    from engine.models import Account

    system = _system(settings)
    now = system.services.now()
    with system.sessions() as session:
        if args.action == "revoke":
            if not api_access.revoke(session, args.id, now):
                print(f"no active token {args.id}", file=sys.stderr)
                return 1
            session.commit()
            print(f"token {args.id} revoked")
            return 0
        account = session.scalar(select(Account).where(Account.username == args.user))
        if account is None:
            print(f"no account {args.user!r}", file=sys.stderr)
            return 1
        if args.action == "list":
            for row in api_access.tokens_of(session, account.id):
                state = (
                    "revoked"
                    if row.revoked_at
                    else ("expired" if as_utc(row.expires_at) <= now else "active")
                )
                print(
                    f"{row.id}\t{row.name}\t{','.join(row.scopes)}\t{state}\texpires {row.expires_at:%Y-%m-%d}"
                )
            return 0
        try:
            text, row = api_access.issue_token(
                session,
                account,
                name=args.name,
                scopes=args.scopes.split(","),
                expires_at=now + timedelta(days=args.days),
                now=now,
            )
        except api_access.UnknownScope as err:
            print(str(err), file=sys.stderr)
            return 2
        session.commit()
    print(
        f"token {row.id} for {args.user} ({','.join(row.scopes)}), expires {row.expires_at:%Y-%m-%d}; "
        "shown once, keep it secret:",
        file=sys.stderr,
    )
    print(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="saygac", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help=cmd_migrate.__doc__)
    sub.add_parser("check", help=cmd_check.__doc__)
    seed = sub.add_parser("seed-demo", help="load deterministic demo data into an empty database")
    seed.add_argument("--subscribers", type=int, default=1200)
    serve = sub.add_parser("serve", help=cmd_serve.__doc__)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    sub.add_parser("worker", help=cmd_worker.__doc__)
    sub.add_parser("sweep", help=cmd_sweep.__doc__)
    sub.add_parser("analytics-backfill", help=cmd_analytics_backfill.__doc__)
    token = sub.add_parser("token", help=cmd_token.__doc__).add_subparsers(
        dest="action", required=True
    )
    create = token.add_parser("create", help="a new token for an account; printed once")
    create.add_argument("--user", required=True, help="the account's user name")
    create.add_argument(
        "--scopes", required=True, help="comma-separated: portal, billing, staff, studio"
    )
    create.add_argument("--days", type=int, default=90, help="days until it expires (default 90)")
    create.add_argument("--name", default="API client", help="what the token is for")
    listing = token.add_parser("list", help="an account's tokens")
    listing.add_argument("--user", required=True)
    revoke = token.add_parser("revoke", help="end a token now")
    revoke.add_argument("id", type=int)
    args = parser.parse_args(argv)
    settings = load_settings()
    handler = {
        "migrate": cmd_migrate,
        "check": cmd_check,
        "seed-demo": cmd_seed_demo,
        "serve": cmd_serve,
        "worker": cmd_worker,
        "sweep": cmd_sweep,
        "analytics-backfill": cmd_analytics_backfill,
        "token": cmd_token,
    }[args.command]
    return handler(settings, args)


if __name__ == "__main__":
    raise SystemExit(main())
