"""The Redis connection every saygac process uses: short timeouts, so an outage is noticed in
seconds (a request keeps its committed work and leaves the jobs to the sweep) and never hangs."""

from __future__ import annotations

from redis import Redis

from engine.settings import Settings

BLOCKING_READ_SECONDS = 420


def redis_client(settings: Settings, *, blocking: bool = False) -> Redis:
    """A client; ``blocking`` for an rq worker, whose BLPOP waits up to rq's dequeue timeout
    (405 s), so its reads may last that long (connecting stays short)."""
    timeout = BLOCKING_READ_SECONDS if blocking else settings.redis.socket_timeout_seconds
    return Redis.from_url(
        settings.redis.url,
        socket_connect_timeout=settings.redis.connect_timeout_seconds,
        socket_timeout=timeout,
        health_check_interval=30,
    )
