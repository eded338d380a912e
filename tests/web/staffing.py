"""Applications made through the engine (the citizen's web pages are tested elsewhere), for the
staff and inspector page tests: each returns the ids the pages need."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.models import Account
from tests.web.conftest import image_bytes
from worker.lifecycle import Lifecycle, submit
from workflow import factories as f


@dataclass
class Submitted:
    instance_id: int
    review_id: int
    life: Lifecycle


def actor_of(system, username: str):
    with system.sessions() as s:
        return f.actor(s.scalar(select(Account).where(Account.username == username)))


def submit_via_engine(
    system, people, subscriber, values=(1206, 1207), photos: bool = True
) -> Submitted:
    """The citizen's submission (with a photo per meter) as the engine sees it; waits at the review."""
    life = Lifecycle(system)
    citizen = actor_of(system, people["citizen"])
    iid = submit(
        life,
        {"citizen": citizen},
        subscriber["code"],
        subscriber["serials"],
        subscriber["seals"],
        list(values),
    )
    if photos:
        with system.sessions() as s:
            app = life.application(iid)
            for i, line in enumerate(app.lines):
                stored = system.services.files.save(
                    s,
                    image_bytes("JPEG", color=(i * 60, 90, 160)),
                    media_type="image/jpeg",
                    kind="photo",
                    owner_id=citizen.id,
                    original_name=f"meter-{i + 1}.jpg",
                    width=640,
                    height=480,
                )
                s.get(type(line), line.id).photo_id = stored.id
            s.commit()
    return Submitted(instance_id=iid, review_id=life.item(iid, "review_application").id, life=life)
