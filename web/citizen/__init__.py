"""The citizen's pages: the e-service's start page, the status page with applications, drafts
and consumption (``views``), and the timeline and chart they show (``pages``). The reading form
itself is a user task, rendered by :mod:`web.tasks`."""
