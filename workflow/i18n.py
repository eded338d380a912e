"""Marking user-facing text in the domain for translation.

The domain knows nothing of the web layer: it marks messages with ``N_`` so the
catalogue extractor finds them, and keeps parameters apart from the text. The web
layer translates the message id at render time and fills in the parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

# The project's message catalogues (compiled at set-up); letters and PDFs are written in the
# subscriber's language, Azerbaijani, outside any web request.
CATALOGUES = Path(__file__).resolve().parents[1] / "web" / "translations"
LETTER_LOCALE = "az"


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Message:
    """A translatable message id with its named parameters (``%(name)s`` style)."""

    text: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, translate: Callable[[str], str] = lambda s: s) -> str:
        text: str = translate(self.text) % self.params if self.params else translate(self.text)
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(text=data["text"], params=dict(data.get("params") or {}))


@lru_cache(maxsize=8)
def _catalogue(locale: str) -> NullTranslations:
    return Translations.load(str(CATALOGUES), [locale])


def in_language(message: Message | str, locale: str = LETTER_LOCALE) -> str:
    """A message id (or :class:`Message`) in ``locale`` from the catalogues; for letters and PDFs."""
    if isinstance(message, str):
        message = Message(message)
    return message.render(_catalogue(locale).gettext)
