"""Process analytics pages (``/analytics``): heat on the diagram, paths, charts, version
comparison and the event-log export, for unit heads (their unit), analysts and admins (all units).

Every figure comes from :mod:`engine.analytics` over the process event log; the policy's
``read_analytics`` decides who sees which unit. Pages show application numbers and units only.
"""
from __future__ import annotations

from web.analytics.views import bp

__all__ = ["bp"]
