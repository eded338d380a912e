"""User-task pages shared by citizens and staff: the task list and one page per BPMN user task
(``views``: the citizen's readings, the operator's review, escalations), with the view data the
forms and templates need (``pages``)."""
