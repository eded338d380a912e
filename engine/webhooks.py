"""Signed events for the utility's other systems: what happened, delivered to configured URLs.

**What a subscriber receives.** A ``POST`` with a JSON body
``{"id": <event id>, "type": <event type>, "created": <RFC 3339 time>, "data": {...}}`` and these
headers:

- ``Saygac-Event-Id``: the event's id (a UUID); the same on every retry of the event, so a
  receiver de-duplicates by it;
- ``Saygac-Event-Type``: ``application.registered``, ``reading.posted``, ``invoice.formed`` or
  ``application.rejected``;
- ``Saygac-Timestamp``: when this delivery attempt was signed (Unix seconds);
- ``Saygac-Signature``: ``v1=`` and the hex HMAC-SHA256, keyed with ``[events] secret``, of
  ``<timestamp>.<body>`` (the body's exact bytes).

A receiver recomputes the signature (:func:`verify` does), refuses a timestamp more than a few
minutes old (a replayed request), and answers 2xx once it has the event; anything else, or no
answer within ``[events] timeout_seconds``, is retried by the job outbox (``[jobs]`` attempts and
delays). An event that exhausts its attempts becomes a failed job: the dead letter, shown with its
error on the incidents page, where an admin can retry it.

**Exactly once in effect.** :func:`emit` writes one outbox job per subscriber in the same
transaction as the change it reports, so an event exists if and only if the change committed;
delivery is at least once, and the event id makes it once for the receiver.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from sqlalchemy.orm import Session

from engine import jobs

EVENT_QUEUE = "events"
DELIVER_EVENT_JOB = "deliver_event"
TYPES = ("application.registered", "reading.posted", "invoice.formed", "application.rejected")


@dataclass(frozen=True)
class EventSettings:
    subscribers: tuple[str, ...] = ()  # URLs that receive every event
    secret: str = ""  # the HMAC key subscribers verify with (required when there are subscribers)
    timeout_seconds: float = 5.0


class DeliveryFailed(Exception):
    """The subscriber did not take the event (the job outbox retries it)."""


def emit(
    session: Session, settings: EventSettings, kind: str, data: dict[str, Any], now: datetime
) -> str | None:
    """Queue ``kind`` with ``data`` for every subscriber; returns the event id (None: no subscribers)."""
    if kind not in TYPES:
        raise ValueError(f"unknown event type {kind!r}")
    if not settings.subscribers:
        return None
    event_id = str(uuid.uuid4())
    body = json.dumps(
        {"id": event_id, "type": kind, "created": now.isoformat(), "data": data},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    for url in settings.subscribers:
        jobs.enqueue(
            session,
            DELIVER_EVENT_JOB,
            {"event_id": event_id, "type": kind, "url": url, "body": body},
            queue=EVENT_QUEUE,
            now=now,
        )
    return event_id


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return f"v1={digest}"


def deliver(settings: EventSettings, args: dict[str, Any], now: datetime) -> None:
    """One delivery attempt; :class:`DeliveryFailed` unless the subscriber answered 2xx."""
    body = args["body"].encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "saygac-events/1",
        "Saygac-Event-Id": args["event_id"],
        "Saygac-Event-Type": args["type"],
        "Saygac-Timestamp": str(timestamp),
        "Saygac-Signature": signature(settings.secret, timestamp, body),
    }
    try:
        response = requests.post(
            args["url"],
            data=body,
            headers=headers,
            timeout=settings.timeout_seconds,
            allow_redirects=False,
        )
    except requests.RequestException as err:
        raise DeliveryFailed(f"{args['type']} {args['event_id']}: {type(err).__name__}") from err
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(
            f"{args['type']} {args['event_id']}: the subscriber answered {response.status_code}"
        )


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    tolerance_seconds: int = 300,
) -> bool:
    """For receivers (and tests): is this a fresh delivery signed with ``secret``?"""
    try:
        timestamp = int(headers.get("Saygac-Timestamp", ""))
    except ValueError:
        return False
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected, headers.get("Saygac-Signature", ""))
