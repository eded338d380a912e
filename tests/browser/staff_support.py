"""Applications for the staff browser tests, made through the engine on the live server's database."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from engine.models import Account
from worker.lifecycle import Lifecycle, submit
from workflow import factories as f


def actor(system, username: str):
    with system.sessions() as s:
        return f.actor(s.scalar(select(Account).where(Account.username == username)))


def submitted_review(live, values_delta=(6, 5)) -> tuple[Lifecycle, int, int]:
    """A demo citizen's application for a new two-meter Yasamal subscriber (last readings 1200, 30 days
    ago, about 6 m³ a month) with a photo of each meter, made through the engine; (life, instance id,
    review item id)."""
    citizen = actor(live.system, "demo-citizen")
    with live.system.sessions() as s:
        sub = f.subscriber(s, meters=2, last_read=live.system.services.today() - timedelta(days=30))
        photos = [
            live.system.services.files.save(
                s,
                jpeg(color=(30 + 90 * i, 90, 150)),
                media_type="image/jpeg",
                kind="photo",
                owner_id=citizen.id,
                original_name=f"meter-{i + 1}.jpg",
                width=800,
                height=600,
            ).id
            for i in range(2)
        ]
        s.commit()
        code, serials, seals = (
            sub.code,
            [m.serial for m in sub.meters],
            [m.seal for m in sub.meters],
        )
    life = Lifecycle(live.system)
    iid = submit(
        life,
        {"citizen": citizen},
        code,
        serials,
        seals,
        [1200 + d for d in values_delta],
        photo_ids=photos,
    )
    return life, iid, life.item(iid, "review_application").id


def jpeg(color=(30, 90, 150)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), color).save(out, "JPEG")
    return out.getvalue()
