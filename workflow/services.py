"""The collaborators that the domain's operations use, built once from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from engine.calendar import WorkingCalendar, working_calendar
from engine.files import FileStore
from engine.settings import Settings
from engine.webhooks import EventSettings
from workflow.identifiers import SubscriberCodeFormat
from workflow.lookups import LookupLimits
from workflow.normalise import FieldRules
from workflow.photos import PhotoLimits
from workflow.plausibility import PlausibilityConfig
from workflow.review import ReviewSettings


@dataclass(frozen=True)
class Services:
    settings: Settings
    files: FileStore
    clock: Callable[[], datetime]
    plausibility: PlausibilityConfig
    photos: PhotoLimits
    codes: SubscriberCodeFormat
    lookups: LookupLimits = LookupLimits()
    review: ReviewSettings = ReviewSettings()
    fields: FieldRules = FieldRules()
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    events: EventSettings = EventSettings()

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """Today in the utility's time zone (a reading date, an invoice date)."""
        return self.clock().astimezone(ZoneInfo(self.settings.app.timezone)).date()


def build_services(settings: Settings, clock: Callable[[], datetime] | None = None) -> Services:
    return Services(
        settings=settings,
        files=FileStore(settings.path(settings.files.root)),
        clock=clock or (lambda: datetime.now(UTC)),
        plausibility=settings.section("plausibility", PlausibilityConfig),
        photos=settings.section("photos", PhotoLimits),
        codes=settings.section("subscriber_code", SubscriberCodeFormat),
        lookups=settings.section("subscriber_lookup", LookupLimits),
        review=settings.section("review", ReviewSettings),
        fields=settings.section("fields", FieldRules),
        calendar=working_calendar(settings),
        events=settings.section("events", EventSettings),
    )
