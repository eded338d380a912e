"""The demo data's vocabularies and showcases, loaded from ``workflow/data/demo.toml``.

Units, districts (with their streets and share of subscribers), first names and surnames, the
demo accounts and the README's showcase subscribers are data; :mod:`workflow.demo.plan` draws
the subscribers, meters and readings from them. The order of every list and table in the file
is part of the data: the generator draws from them in that order.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "demo.toml"

with DATA.open("rb") as _file:
    _DATA = tomllib.load(_file)

DEMO_PASSWORD: str = _DATA["password"]
MIN_SUBSCRIBERS: int = _DATA["min_subscribers"]
DAYS_PER_MONTH: float = _DATA["days_per_month"]
CENTRAL_UNIT: str = _DATA["central_unit"]

# unit code -> (name, region)
UNITS: dict[str, tuple[str, str]] = {
    code: (name, region) for code, (name, region) in _DATA["units"].items()
}

# district code (as stored in subscriber.district and matched by route_to_unit.dmn)
#   -> (Azerbaijani district name, city, unit code, tariff region)
DISTRICTS: dict[str, tuple[str, str, str, str]] = {
    code: (d["name"], d["city"], d["unit"], d["region"]) for code, d in _DATA["districts"].items()
}
DISTRICT_WEIGHTS: dict[str, int] = {code: d["weight"] for code, d in _DATA["districts"].items()}
STREETS: dict[str, tuple[str, ...]] = {
    code: tuple(d["streets"]) for code, d in _DATA["districts"].items()
}

MALE_NAMES: tuple[str, ...] = tuple(_DATA["names"]["male"])
FEMALE_NAMES: tuple[str, ...] = tuple(_DATA["names"]["female"])
SURNAMES: tuple[str, ...] = tuple(_DATA["names"]["surnames"])

# username -> (role, unit code, display name); the citizens' names come from their subscribers.
DEMO_ACCOUNTS: dict[str, tuple[str, str | None, str]] = {
    user: (role, unit or None, display) for user, (role, unit, display) in _DATA["accounts"].items()
}

# showcase key -> {"label", "persons", "monthly_m3": [...], optionally "last_value"}
SHOWCASES: dict[str, dict[str, Any]] = _DATA["showcases"]
