"""The citizen's forms: identify the subscriber, then enter the readings of every meter."""
from __future__ import annotations

from sqlalchemy import select
from wtforms import FieldList, Form, FormField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from forms.base import TaskForm, collect_entry_errors
from workflow.i18n import N_
from workflow.identifiers import InvalidIdentifier, check_subscriber_code, normalize_az_phone
from workflow.models import Meter, Subscriber
from workflow.tasks import application_of


class IdentifySubscriberForm(TaskForm):
    subscriber_code = StringField(N_("Subscriber code"), filters=[lambda v: (v or "").strip()])

    def validate_subscriber_code(self, field):
        try:
            code = check_subscriber_code(field.data, self.context.services.codes)
        except InvalidIdentifier as err:
            raise ValidationError(self.message(err.message)) from None
        if self.context.session.scalar(select(Subscriber.id).where(Subscriber.code == code)) is None:
            raise ValidationError(self.message(N_("No subscriber has this code. Check the code on your bill.")))
        field.data = code


class MeterEntryForm(Form):
    serial = StringField(N_("Meter serial number"), validators=[DataRequired(N_("Enter the meter's serial number"))])
    seal = StringField(N_("Seal number"), validators=[DataRequired(N_("Enter the seal number"))])
    value = StringField(N_("Reading"), validators=[DataRequired(N_("Enter the reading"))])
    read_on = StringField(N_("Reading date"), validators=[DataRequired(N_("Enter the date of the reading"))])
    photo_id = HiddenField()


class EnterReadingsForm(TaskForm):
    meters = FieldList(FormField(MeterEntryForm), min_entries=1, max_entries=20)
    phone = StringField(N_("Phone"), validators=[DataRequired(N_("Enter a phone number"))])
    email = StringField(N_("E-mail"), validators=[Optional(), Email(N_("Enter an e-mail address like name@example.az"))])
    notes = TextAreaField(N_("Notes"), validators=[Optional(), Length(max=1000)])

    def validate_phone(self, field):
        try:
            field.data = normalize_az_phone(field.data)
        except InvalidIdentifier as err:
            raise ValidationError(self.message(err.message)) from None

    def validate_meters(self, field):
        from datetime import date

        app = application_of(self.context.session, self.context.instance_id)
        on_record = {m.serial: m for m in self.context.session.scalars(
            select(Meter).where(Meter.subscriber_id == app.subscriber_id))} if app else {}
        seen = set()
        for entry in field.entries:
            sub = entry.form
            serial = (sub.serial.data or "").strip().upper()
            sub.serial.data = serial
            if serial not in on_record:
                sub.serial.errors.append(self.message(N_("This serial number is not on record for the subscriber")))
            elif serial in seen:
                sub.serial.errors.append(self.message(N_("This meter is entered twice")))
            seen.add(serial)
            raw = (sub.value.data or "").replace(" ", "")
            if not raw.isdigit():
                sub.value.errors.append(self.message(N_("Enter the reading in whole cubic metres, digits only")))
            elif serial in on_record and len(raw.lstrip("0") or "0") > on_record[serial].register_digits:
                sub.value.errors.append(self.message(N_("The reading has more digits than the meter's register")))
            try:
                when = date.fromisoformat((sub.read_on.data or "").strip())
                if when > self.context.today:
                    sub.read_on.errors.append(self.message(N_("The reading date cannot be in the future")))
            except ValueError:
                sub.read_on.errors.append(self.message(N_("Enter the date as YYYY-MM-DD")))
        collect_entry_errors(field)

    def to_task_data(self) -> dict:
        return {
            "meters": [
                {"serial": e.form.serial.data, "seal": (e.form.seal.data or "").strip(),
                 "value": int(e.form.value.data.replace(" ", "")), "read_on": e.form.read_on.data.strip(),
                 "photo_id": int(e.form.photo_id.data) if e.form.photo_id.data else None}
                for e in self.meters.entries
            ],
            "phone": self.phone.data, "email": self.email.data or None, "notes": self.notes.data or "",
        }
