"""The base of every task form: it is built with a context that lets it check against the records."""
from __future__ import annotations

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
    uploads: dict = field(default_factory=dict)  # field name -> stored_file id, filled by the web layer


class TaskForm(Form):
    """A form for one formKey. ``to_task_data`` gives the dict its task handler takes."""

    def __init__(self, formdata=None, *, context: FormContext, **kwargs):
        self.context = context
        super().__init__(formdata, **kwargs)

    def to_task_data(self) -> dict:
        return {name: f.data for name, f in self._fields.items()}
