"""Demo data: vocabularies and showcases as data (``workflow/data/demo.toml``), a deterministic
generator (:mod:`workflow.demo.plan`) and the seeding of an empty database (:mod:`workflow.demo.seed`)."""

from workflow.demo.data import (
    CENTRAL_UNIT,
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DISTRICTS,
    MIN_SUBSCRIBERS,
    UNITS,
)
from workflow.demo.seed import (
    DemoDataError,
    DemoSummary,
    Showcase,
    ShowcaseMeter,
    demo_readme_table,
    seed_demo,
)

__all__ = [
    "CENTRAL_UNIT",
    "DEMO_ACCOUNTS",
    "DEMO_PASSWORD",
    "DISTRICTS",
    "MIN_SUBSCRIBERS",
    "UNITS",
    "DemoDataError",
    "DemoSummary",
    "Showcase",
    "ShowcaseMeter",
    "demo_readme_table",
    "seed_demo",
]
