"""Staff forms: the operator's review, the unit head's escalation, the inspector's visit."""
from __future__ import annotations

from wtforms import FieldList, Form, FormField, HiddenField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from forms.base import TaskForm, collect_entry_errors
from workflow.i18n import N_


class ReviewForm(TaskForm):
    decision = RadioField(N_("Decision"), choices=[
        SelectChoice("accept", N_("Accept: post the reading and form the invoice")),
        SelectChoice("inspect", N_("Send to an inspector for an on-site check")),
        SelectChoice("reject", N_("Reject")),
    ], validators=[InputRequired(N_("Choose a decision"))])
    reject_reason = TextAreaField(N_("Reason for rejection (the citizen sees it)"), validators=[Length(max=1000)])
    inspection_instruction = TextAreaField(N_("Instruction for the inspector"), validators=[Length(max=1000)])

    def validate_reject_reason(self, field):
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError(self.message(N_("Give the reason for rejection")))


class EscalationForm(TaskForm):
    note = TextAreaField(N_("What was done"), validators=[DataRequired(N_("Say what was done")), Length(max=1000)])


class InspectedMeterForm(Form):
    line_id = HiddenField()
    value = StringField(N_("Reading on site"), validators=[Optional()])
    read_on = StringField(N_("Visit date"), validators=[Optional()])
    new_seal = StringField(N_("New seal number, if the seal was replaced"), validators=[Optional(), Length(max=32)])


class FieldInspectionForm(TaskForm):
    outcome = RadioField(N_("Outcome"), choices=[
        SelectChoice("done", N_("Meter read on site")), SelectChoice("no_access", N_("No access: visit again")),
    ], validators=[InputRequired(N_("Choose the outcome of the visit"))])
    meters = FieldList(FormField(InspectedMeterForm), min_entries=0, max_entries=20)
    note = TextAreaField(N_("Note"), validators=[Length(max=1000)])

    def validate_meters(self, field):
        if self.outcome.data != "done":
            return
        for entry in field.entries:
            if not (entry.form.line_id.data or "").isdigit():
                entry.form.line_id.errors.append(self.message(N_("This meter is not part of the application")))
            if not (entry.form.value.data or "").strip().isdigit():
                entry.form.value.errors.append(self.message(N_("Enter the reading on site, digits only")))
            if not (entry.form.read_on.data or "").strip():
                entry.form.read_on.errors.append(self.message(N_("Enter the visit date")))
        collect_entry_errors(field)

    def to_task_data(self) -> dict:
        return {
            "outcome": self.outcome.data,
            "meters": [{"line_id": int(e.form.line_id.data), "value": int(e.form.value.data),
                        "read_on": e.form.read_on.data.strip(), "new_seal": e.form.new_seal.data or None}
                       for e in self.meters.entries] if self.outcome.data == "done" else [],
            "note": self.note.data or "",
        }
