"""The English texts bpmnlint and its bpmn-js plugin show in the modeler, marked for translation.

The modeler page hands their translations to the modeler's ``translate`` module
(``web/assets/studio/lint.js``): the rules saygac enables (``lintConfig`` there) and the plugin's
own labels. ``{errors}``-style placeholders are filled in by the modeler.
"""

from __future__ import annotations

from flask_babel import gettext

from workflow.i18n import N_

LINT_TEXTS = (
    N_("Process is missing start event"),
    N_("Sub process is missing start event"),
    N_("Process is missing end event"),
    N_("Sub process is missing end event"),
    N_("Element is not connected"),
    N_("Flow splits implicitly"),
    N_("SequenceFlow is a duplicate"),
    N_("Duplicate outgoing sequence flows"),
    N_("Duplicate incoming sequence flows"),
    N_("Element is missing label/name"),
    N_("Gateway is superfluous. It only has one source and target."),
    N_("Process has multiple blank start events"),
    N_("Sub process has multiple blank start events"),
    N_("Issues for child elements"),
    N_("{errors} Errors, {warnings} Warnings"),
    N_("No Issues"),
    N_("Toggle linting overlays"),
)


def lint_translations() -> dict[str, str]:
    """Each lint text in the reader's language, keyed by the English text the linter reports."""
    return {text: gettext(text) for text in LINT_TEXTS}
