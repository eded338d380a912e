"""The base of every task form: it is built with a context that lets it check against the records."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session
from wtforms import Form


@dataclass
class FormContext:
    session: Session
    today: date
    instance_id: int
    services: object = None
    actor: object = None  # engine.audit.Actor of the person filling the form (lookup throttle)
    uploads: dict = field(default_factory=dict)  # field name -> stored_file id, filled by the web layer
    translate: Callable[[str], str] = staticmethod(lambda text: text)  # the web layer passes gettext


class TaskForm(Form):
    """A form for one formKey. ``to_task_data`` gives the dict its task handler takes."""

    def __init__(self, formdata=None, *, context: FormContext, **kwargs):
        self.context = context
        super().__init__(formdata, **kwargs)

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
