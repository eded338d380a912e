"""Marking user-facing text in the domain for translation.

The domain knows nothing of the web layer: it marks messages with ``N_`` so the
catalogue extractor finds them, and keeps parameters apart from the text. The web
layer translates the message id at render time and fills in the parameters.
"""
from __future__ import annotations

from dataclasses import dataclass, field


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Message:
    """A translatable message id with its named parameters (``%(name)s`` style)."""

    text: str
    params: dict = field(default_factory=dict)

    def render(self, translate=lambda s: s) -> str:
        return translate(self.text) % self.params if self.params else translate(self.text)

    def to_dict(self) -> dict:
        return {"text": self.text, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: dict) -> Message:
        return cls(text=data["text"], params=dict(data.get("params") or {}))
