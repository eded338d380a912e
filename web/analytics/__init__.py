"""Process analytics pages (``/analytics``): heat on the diagram, paths, charts, version
comparison and the event-log export, for unit heads (their unit), analysts and admins (all units).

The figures come from the rollup (:mod:`engine.analytics_rollup`, refreshed by the sweep) and,
for what waits now and a step's slowest applications, from :mod:`engine.analytics` directly. The
policy's ``read_analytics`` alone decides who sees which unit (everyone else gets 404). Pages show
application numbers and units only.
"""

from __future__ import annotations

from web.analytics.views import bp

__all__ = ["bp"]
