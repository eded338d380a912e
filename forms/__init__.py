"""WTForms classes, one per user task's formKey. No web framework imports: the web layer binds them."""

from __future__ import annotations

from forms.base import FormContext, TaskForm
from forms.citizen import EnterReadingsForm, IdentifySubscriberForm
from forms.staff import EscalationForm, FieldInspectionForm, ReviewForm

FORMS: dict[str, type[TaskForm]] = {
    "identify_subscriber": IdentifySubscriberForm,
    "enter_readings": EnterReadingsForm,
    "review_application": ReviewForm,
    "handle_escalation": EscalationForm,
    "field_inspection": FieldInspectionForm,
}

__all__ = ["FORMS", "FormContext", "TaskForm"]
