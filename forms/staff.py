"""Staff forms: the operator's review, the unit head's escalation, the inspector's visit."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from forms.base import FormContext, TaskForm, collect_entry_errors
from workflow import normalise
from workflow.i18n import N_
from workflow.models import Meter
from workflow.review import ReviewSettings, is_flagged
from workflow.tasks import application_of


class ReviewForm(TaskForm):
    """The operator's decision. For a flagged application (:func:`workflow.review.is_flagged`)
    "accept" is offered only as an override that needs a configured reason and the operator's
    words; the task handler checks the same rule (:func:`workflow.review.check_decision`)."""

    decision = RadioField(
        N_("Decision"),
        choices=[
            SelectChoice("accept", N_("Accept: post the reading and form the invoice")),
            SelectChoice("inspect", N_("Send to an inspector for an on-site check")),
            SelectChoice("reject", N_("Reject")),
        ],
        validators=[InputRequired(N_("Choose a decision"))],
    )
    override_key = SelectField(
        N_("Reason for accepting without a site visit"), choices=[], validate_choice=False
    )
    override_reason = TextAreaField(
        N_("Why the reading can be posted as it is"), validators=[Length(max=1000)]
    )
    reject_key = SelectField(N_("Reason for rejection"), choices=[], validate_choice=False)
    reject_reason = TextAreaField(
        N_("Reason for rejection (the citizen sees it)"), validators=[Length(max=1000)]
    )
    inspection_instruction = TextAreaField(
        N_("Instruction for the inspector"), validators=[Length(max=1000)]
    )

    def __init__(self, formdata=None, *, context: FormContext, **kwargs):
        super().__init__(formdata, context=context, **kwargs)
        self.reject_key.choices = [("", "")] + [(r, r) for r in self.reasons]
        self.override_key.choices = [("", "")] + [(r, r) for r in self.override_reasons]
        app = application_of(context.session, context.instance_id)
        self.flagged = app is not None and is_flagged(app)
        if self.flagged:
            self.decision.choices = [
                SelectChoice(
                    "accept", N_("Accept despite the conflict: override, with the reason")
                ),
                SelectChoice("inspect", N_("Send to an inspector for an on-site check")),
                SelectChoice("reject", N_("Reject")),
            ]

    @property
    def _settings(self) -> ReviewSettings:
        return getattr(self.context.services, "review", None) or ReviewSettings()

    @property
    def reasons(self) -> tuple[str, ...]:
        return self._settings.reject_reasons

    @property
    def override_reasons(self) -> tuple[str, ...]:
        return self._settings.override_reasons

    def validate_reject_key(self, field):
        if self.decision.data == "reject" and field.data not in self.reasons:
            raise ValidationError(self.message(N_("Choose the reason for rejection")))

    def validate_reject_reason(self, field):
        if self.decision.data == "reject" and not (field.data or "").strip():
            raise ValidationError(self.message(N_("Give the reason for rejection")))

    def validate_override_key(self, field):
        if (
            self.flagged
            and self.decision.data == "accept"
            and field.data not in self.override_reasons
        ):
            raise ValidationError(
                self.message(N_("Choose why the application can be accepted without a site visit"))
            )

    def validate_override_reason(self, field):
        if self.flagged and self.decision.data == "accept" and not (field.data or "").strip():
            raise ValidationError(
                self.message(N_("Say in your words why the reading can be posted as it is"))
            )


class EscalationForm(TaskForm):
    note = TextAreaField(
        N_("What was done"), validators=[DataRequired(N_("Say what was done")), Length(max=1000)]
    )


class InspectedMeterForm(Form):
    line_id = HiddenField()
    value = StringField(N_("Reading on site"), validators=[Optional()])
    read_on = StringField(N_("Visit date"), validators=[Optional()])
    serial_confirmed = BooleanField(N_("The serial number on the meter is the one on record"))
    seal_intact = RadioField(
        N_("Seal"),
        choices=[
            SelectChoice("yes", N_("The seal is intact")),
            SelectChoice("no", N_("The seal was replaced")),
        ],
        validators=[Optional()],
        validate_choice=False,
    )
    new_seal = StringField(
        N_("New seal number, if the seal was replaced"), validators=[Optional(), Length(max=32)]
    )
    replaced = BooleanField(N_("The meter was replaced during the visit"))
    new_serial = StringField(
        N_("Serial number of the new meter"), validators=[Optional(), Length(max=32)]
    )
    new_initial = StringField(
        N_("Reading of the new meter when installed"), validators=[Optional()]
    )
    photo_id = HiddenField()


class FieldInspectionForm(TaskForm):
    outcome = RadioField(
        N_("Outcome"),
        choices=[
            SelectChoice("done", N_("Meter read on site")),
            SelectChoice("no_access", N_("No access: visit again")),
        ],
        validators=[InputRequired(N_("Choose the outcome of the visit"))],
    )
    visit_time = StringField(N_("Time of the visit"), validators=[Optional()])
    meters = FieldList(FormField(InspectedMeterForm), min_entries=0, max_entries=20)
    note = TextAreaField(N_("Note"), validators=[Length(max=1000)])

    def validate_visit_time(self, field):
        if self.outcome.data == "done" and _clock_time(field.data) is None:
            raise ValidationError(
                self.message(N_("Enter the time of the visit, for example 14:30"))
            )

    def validate_note(self, field):
        if self.outcome.data == "no_access" and not (field.data or "").strip():
            raise ValidationError(self.message(N_("Say why there was no access")))

    def validate_meters(self, field):
        if self.outcome.data != "done":
            return
        for entry in field.entries:
            sub = entry.form
            if normalise.record_id(sub.line_id.data) is None:
                sub.line_id.errors.append(
                    self.message(N_("This meter is not part of the application"))
                )
            try:
                sub.value.data = normalise.digits(
                    sub.value.data, N_("Enter the reading on site, digits only")
                )
            except normalise.Refused as err:
                sub.value.errors.append(self.message(err.message))
            else:
                if not sub.value.data:
                    sub.value.errors.append(
                        self.message(N_("Enter the reading on site, digits only"))
                    )
            try:
                sub.new_seal.data = normalise.seal(sub.new_seal.data, self.context.services.fields)
            except normalise.Refused as err:
                sub.new_seal.errors.append(self.message(err.message))
            if _iso_date(sub.read_on.data) is None:
                sub.read_on.errors.append(
                    self.message(N_("Enter the visit date, for example 2026-03-31"))
                )
            if sub.seal_intact.data not in ("yes", "no"):
                sub.seal_intact.errors.append(self.message(N_("Say whether the seal is intact")))
            elif sub.seal_intact.data == "no" and not sub.new_seal.data and not sub.new_seal.errors:
                sub.new_seal.errors.append(self.message(N_("Enter the number of the new seal")))
            if sub.replaced.data:
                self._check_replacement(sub)
        collect_entry_errors(field)

    def _check_replacement(self, sub) -> None:
        """A replaced meter needs the new serial (not on record yet) and its reading at installation."""
        try:
            serial = normalise.code(sub.new_serial.data)
        except normalise.Refused as err:
            sub.new_serial.errors.append(self.message(err.message))
        else:
            sub.new_serial.data = serial
            if not serial:
                sub.new_serial.errors.append(
                    self.message(N_("Enter the serial number of the new meter"))
                )
            elif (
                self.context.session.scalar(select(Meter.id).where(Meter.serial == serial))
                is not None
            ):
                sub.new_serial.errors.append(
                    self.message(N_("A meter with this serial number is already on record"))
                )
        try:
            sub.new_initial.data = normalise.digits(
                sub.new_initial.data,
                N_("Enter the new meter's reading when installed, digits only"),
            )
        except normalise.Refused as err:
            sub.new_initial.errors.append(self.message(err.message))
        else:
            if not sub.new_initial.data:
                sub.new_initial.errors.append(
                    self.message(N_("Enter the new meter's reading when installed, digits only"))
                )

    def to_task_data(self) -> dict:
        done = self.outcome.data == "done"
        return {
            "outcome": self.outcome.data,
            "meters": [
                {
                    "line_id": normalise.record_id(e.form.line_id.data),
                    "value": int(e.form.value.data),
                    "read_on": _validated_date(e.form.read_on.data).isoformat(),
                    "visit_time": _clock_time(self.visit_time.data),
                    "serial_confirmed": bool(e.form.serial_confirmed.data),
                    "seal_intact": e.form.seal_intact.data == "yes",
                    "new_seal": e.form.new_seal.data if e.form.seal_intact.data == "no" else None,
                    "new_serial": e.form.new_serial.data if e.form.replaced.data else None,
                    "new_initial": int(e.form.new_initial.data) if e.form.replaced.data else None,
                    "photo_id": normalise.record_id(e.form.photo_id.data),
                }
                for e in self.meters.entries
            ]
            if done
            else [],
            "note": self.note.data or "",
        }


def _clock_time(value: str | None) -> str | None:
    """ "14:30" (or "9.05", "09:05") as "HH:MM", or None."""
    try:
        text = normalise.ascii_digits(normalise.text(value)).replace(".", ":")
    except normalise.Refused:
        return None
    hours, _sep, minutes = text.partition(":")
    if not (re.fullmatch("[0-9]{1,2}", hours) and re.fullmatch("[0-9]{2}", minutes)):
        return None
    h, m = int(hours), int(minutes)
    return f"{h:02d}:{m:02d}" if h < 24 and m < 60 else None


def _validated_date(value: str | None) -> date:
    """The date of an answer ``validate`` has accepted."""
    when = _iso_date(value)
    if when is None:
        raise ValueError(f"not a validated date: {value!r}")
    return when


def _iso_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(normalise.ascii_digits(normalise.text(value)))
    except ValueError:  # normalise.Refused is one
        return None
