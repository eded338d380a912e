"""The outcome of a plausibility check: flags with their severity and message, and the figures.

Severities (see :mod:`workflow.plausibility` for which check gives which): ``block`` the form
refuses the reading; ``confirm`` the citizen confirms it; ``inspect`` staff weigh it. Results are
stored on the application's meter lines as JSON (:meth:`PlausibilityResult.to_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from workflow.i18n import Message

Severity = Literal["block", "confirm", "inspect"]
SEVERITIES = ("block", "confirm", "inspect")


@dataclass(frozen=True)
class Flag:
    code: str
    severity: Severity
    message: Message

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "message": self.message.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Flag:
        return cls(data["code"], data["severity"], Message.from_dict(data["message"]))


@dataclass(frozen=True)
class PlausibilityResult:
    flags: tuple[Flag, ...] = ()
    consumption_m3: int | None = None
    rollover: bool = False

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.flags)

    @property
    def blocking(self) -> tuple[Flag, ...]:
        """Flags the form shows as errors; the reading cannot be submitted while any exist."""
        return tuple(f for f in self.flags if f.severity == "block")

    @property
    def confirmations(self) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if f.severity == "confirm")

    @property
    def needs_confirmation(self) -> bool:
        """True when the citizen must answer "yes, it is correct" before going on."""
        return bool(self.confirmations)

    @property
    def conflicts_with_records(self) -> bool:
        """True when staff should see the on-site inspection pre-selected."""
        return any(f.severity in ("confirm", "inspect") for f in self.flags)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flags": [f.to_dict() for f in self.flags],
            "consumption_m3": self.consumption_m3,
            "rollover": self.rollover,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlausibilityResult:
        return cls(
            flags=tuple(Flag.from_dict(f) for f in data.get("flags", ())),
            consumption_m3=data.get("consumption_m3"),
            rollover=bool(data.get("rollover", False)),
        )
