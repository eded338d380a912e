"""The citizen's forms: identify the subscriber, then enter the readings of every meter."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from engine.audit import SYSTEM
from forms.base import TaskForm, collect_entry_errors
from workflow import normalise
from workflow.i18n import N_, Message
from workflow.identifiers import (
    InvalidIdentifier,
    check_subscriber_code,
    normalize_az_phone,
)
from workflow.lookups import LookupThrottled, find_subscriber
from workflow.models import Meter
from workflow.precheck import duplicate_message, open_application_for, precheck
from workflow.tasks import application_of

NOTES_MAX = 1000


class IdentifySubscriberForm(TaskForm):
    subscriber_code = StringField(N_("Subscriber code"), filters=[lambda v: (v or "").strip()])

    def validate_subscriber_code(self, field):
        try:
            code = check_subscriber_code(field.data, self.context.services.codes)
        except InvalidIdentifier as err:
            raise ValidationError(self.message(err.message)) from None
        actor = self.context.actor or SYSTEM
        try:
            found = find_subscriber(
                self.context.session,
                code,
                actor,
                self.context.services.now(),
                self.context.services.lookups,
                self.context.lookup_window,
            )
        except LookupThrottled as err:
            raise ValidationError(self.message(err.message)) from None
        if found is None:
            raise ValidationError(
                self.message(N_("No subscriber has this code. Check the code on your bill."))
            )
        field.data = code


class MeterEntryForm(Form):
    serial = StringField(
        N_("Meter serial number"), validators=[DataRequired(N_("Enter the meter's serial number"))]
    )
    seal = StringField(N_("Seal number"), validators=[DataRequired(N_("Enter the seal number"))])
    value = StringField(N_("Reading"), validators=[DataRequired(N_("Enter the reading"))])
    read_on = StringField(
        N_("Reading date"), validators=[DataRequired(N_("Enter the date of the reading"))]
    )
    photo_id = HiddenField()
    # flag codes the citizen has confirmed ("yes, the reading is correct"), space-separated
    confirmed = HiddenField()
    confirm = BooleanField(N_("Yes, the reading is correct"))


class EnterReadingsForm(TaskForm):
    meters = FieldList(FormField(MeterEntryForm), min_entries=1, max_entries=20)
    phone = StringField(N_("Phone"), validators=[DataRequired(N_("Enter a phone number"))])
    email = StringField(
        N_("E-mail"),
        validators=[Optional(), Email(N_("Enter an e-mail address like name@example.az"))],
    )
    notes = TextAreaField(
        N_("Notes"),
        filters=[lambda v: (v or "").strip()],
        validators=[
            Optional(),
            Length(max=NOTES_MAX, message=N_("Notes must be %(max)d characters or fewer")),
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings: dict[str, list] = {}  # block name -> "confirm" flags not yet confirmed
        self.history: dict[str, object] = {}  # block name -> PlausibilityResult, for the preview

    @property
    def needs_confirmation(self) -> bool:
        return any(self.warnings.values())

    def _normalised(self, field, normaliser, *args):
        """The field's value as stored, or its raw value kept with a field error."""
        try:
            field.data = normaliser(field.data, *args)
            return True
        except normalise.Refused as err:
            field.errors.append(self.message(err.message))
            return False

    def validate_email(self, field):
        try:
            field.data = normalise.text(field.data)
        except normalise.Refused as err:
            raise ValidationError(self.message(err.message)) from None

    def validate_notes(self, field):
        try:
            field.data = normalise.text(field.data, multiline=True)
        except normalise.Refused as err:
            raise ValidationError(self.message(err.message)) from None
        if len(field.data) > NOTES_MAX:  # NFKC may lengthen a text
            raise ValidationError(
                self.message(
                    Message(N_("Notes must be %(max)d characters or fewer"), {"max": NOTES_MAX})
                )
            )

    def validate_phone(self, field):
        try:
            field.data = normalize_az_phone(field.data)
        except InvalidIdentifier as err:
            raise ValidationError(self.message(err.message)) from None

    def validate_meters(self, field):
        app = application_of(self.context.session, self.context.instance_id)
        on_record = (
            {
                m.serial: m
                for m in self.context.session.scalars(
                    select(Meter).where(
                        Meter.subscriber_id == app.subscriber_id, Meter.active.is_(True)
                    )
                )
            }
            if app
            else {}
        )
        seen = set()
        for entry in field.entries:
            sub = entry.form
            serial = sub.serial.data if self._normalised(sub.serial, normalise.code) else None
            self._normalised(sub.seal, normalise.seal, self.context.services.fields)
            raw = sub.value.data if self._normalised(sub.value, normalise.digits) else ""
            date_typed = self._normalised(
                sub.read_on, lambda v: normalise.ascii_digits(normalise.text(v))
            )
            if serial and serial not in on_record:
                sub.serial.errors.append(
                    self.message(
                        N_(  # the same whatever the meters on record
                            "This serial number is not on record for this subscriber. Type the factory number printed "
                            "on the meter's body, above the dial"
                        )
                    )
                )
            elif serial in seen:
                sub.serial.errors.append(self.message(N_("This meter is entered twice")))
            seen.add(serial)
            if raw and serial in on_record and len(raw) > on_record[serial].register_digits:
                sub.value.errors.append(
                    self.message(
                        Message(
                            N_(
                                "The reading has more digits than the meter's register, which has %(digits)s. Type only the black "
                                "digits"
                            ),
                            {"digits": on_record[serial].register_digits},
                        )
                    )
                )
            when = None
            try:
                when = date.fromisoformat(sub.read_on.data) if date_typed else None
                if when is not None and when > self.context.today:
                    sub.read_on.errors.append(
                        self.message(N_("The reading date cannot be in the future"))
                    )
            except ValueError:
                if sub.read_on.data:
                    sub.read_on.errors.append(self.message(N_("Enter the date as YYYY-MM-DD")))
            if serial in on_record:
                open_app = open_application_for(self.context.session, on_record[serial].id, app.id)
                if open_app is not None:
                    sub.serial.errors.append(
                        self.message(duplicate_message(on_record[serial], open_app))
                    )
            if any(f.errors for f in sub) or serial not in on_record or when is None:
                continue
            sub.value.data = str(int(raw))  # what is stored, and what "check your answers" shows
            self._precheck(entry, on_record[serial], int(raw), when, app)
        collect_entry_errors(field)

    def _precheck(self, entry, meter: Meter, value: int, when: date, app) -> None:
        """The plausibility rules: refusals become field errors, warnings wait for a confirmation."""
        sub = entry.form
        result = precheck(
            self.context.session,
            meter,
            value,
            when,
            self.context.today,
            self.context.services.plausibility,
            app.subscriber.persons,
        )
        self.history[entry.name] = result
        for flag in result.blocking:
            target = (
                sub.value
                if flag.code in ("too_many_digits", "duplicate_reading", "lower_than_previous")
                else sub.read_on
            )
            if not target.errors:
                target.errors.append(self.message(flag.message))
        codes = sorted(f.code for f in result.confirmations)
        confirmed = set((sub.confirmed.data or "").split())
        if sub.confirm.data:  # "yes, the reading is correct": what the page showed for this reading
            confirmed = set(codes)
        pending = [f for f in result.confirmations if f.code not in confirmed]
        self.warnings[entry.name] = pending
        sub.confirmed.data = " ".join(c for c in codes if c in confirmed)
        sub.confirm.data = False

    def to_task_data(self) -> dict:
        return {
            "meters": [
                {
                    "serial": e.form.serial.data,
                    "seal": e.form.seal.data,
                    "value": int(e.form.value.data),
                    "read_on": e.form.read_on.data,
                    "photo_id": normalise.record_id(e.form.photo_id.data),
                    "confirmed_flags": (e.form.confirmed.data or "").split(),
                }
                for e in self.meters.entries
            ],
            "phone": self.phone.data,
            "email": self.email.data or None,
            "notes": self.notes.data or "",
        }
