"""The process studio: drafts, diffs, deploy and instance migration pages (``pages``) and the
JSON endpoints the BPMN modeler calls (``api``)."""
