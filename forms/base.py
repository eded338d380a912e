"""The base of every task form: it is built with a context that lets it check against the records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session
from wtforms import Form, HiddenField, StringField, TextAreaField

from workflow import normalise

if TYPE_CHECKING:
    from workflow.services import Services


@dataclass
class FormContext:
    session: Session
    today: date
    instance_id: int
    services: Services
    actor: object = None  # engine.audit.Actor of the person filling the form (lookup limits)
    # counts a subscriber-code lookup in the actor's short window, False when it is used up (the web
    # layer passes its Flask-Limiter counter, web.limits.lookup_window)
    lookup_window: Callable[[], bool] | None = None
    uploads: dict = field(
        default_factory=dict
    )  # field name -> stored_file id, filled by the web layer
    translate: Callable[[str], str] = staticmethod(
        lambda text: text
    )  # the web layer passes gettext


class TaskForm(Form):
    """A form for one formKey. ``to_task_data`` gives the dict its task handler takes."""

    def __init__(self, formdata=None, *, context: FormContext, **kwargs):
        self.context = context
        super().__init__(formdata, **kwargs)

    def validate(self, extra_validators=None) -> bool:
        """Every visible text answer normalised first (``workflow.normalise.text``: NFKC, no
        control or bidi characters), then the form's own validation; a refusal is the field's error
        and the answer is kept as typed. Fields inside lists are the list's validator's business."""
        refused = {}
        for name, answer in self._fields.items():
            if (
                isinstance(answer, StringField)
                and not isinstance(answer, HiddenField)
                and isinstance(answer.data, str)
            ):
                try:
                    answer.data = normalise.text(
                        answer.data, multiline=isinstance(answer, TextAreaField)
                    )
                except normalise.Refused as err:
                    refused[name] = self.message(err.message)
        ok = super().validate(extra_validators)
        for name, message in refused.items():
            self._fields[name].errors = [
                message
            ]  # the reason, not what other checks made of the raw text
        self._errors = None  # WTForms caches form.errors
        return ok and not refused

    def to_task_data(self) -> dict:
        return {name: f.data for name, f in self._fields.items()}

    def message(self, message) -> str:
        """A domain ``Message`` or a marked string, translated for the person filling the form."""
        if isinstance(message, str):
            return self.context.translate(message)
        return message.render(self.context.translate)


def collect_entry_errors(field) -> None:
    """After a list's own validator added errors to its entries, make them the list's errors
    (WTForms gathers entry errors before the list's validators run)."""
    errors = [e.form.errors for e in field.entries]
    field.errors = errors if any(errors) else []
