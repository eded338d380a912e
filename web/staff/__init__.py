"""The back office: the unit's queue, dashboard, instance view and reassignment (``views``), and
the inspector's field tasks (``inspector``). The operator's review form is a user task, rendered
by :mod:`web.tasks`."""
