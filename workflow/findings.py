"""What an on-site inspection leaves on the records when the reading is posted.

The inspector's reading is the one posted (source ``inspector``, an actual read by the utility).
Besides it, the visit may find:

- a **new seal**: the meter's seal on record becomes the new number (audited
  ``meter_seal_changed``), so the next application is compared with it;
- a **replaced meter**: the old meter is closed (``active = False``) with the inspector's
  reading as its last one; a new meter with the new serial, the new seal and the old register
  size is installed on the visit date, and its reading at installation is posted as its first
  reading (source ``inspector``, audited ``meter_replaced``). The citizen's next application
  names the new meter, and plausibility starts from that first reading.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine import audit
from workflow.models import ApplicationMeter, Meter, Reading


def record_findings(
    session: Session, line: ApplicationMeter, *, at: datetime, instance_id: int
) -> Meter | None:
    """Apply a done visit's seal and meter findings to the records; the new meter, if any."""
    meter = line.meter
    entity = f"application:{line.application_id}"
    if line.replaced_serial:
        meter.active = False
        new = Meter(
            subscriber_id=meter.subscriber_id,
            serial=line.replaced_serial,
            seal=line.inspected_seal or meter.seal,
            register_digits=meter.register_digits,
            installed_on=line.inspected_on or line.read_on,
            active=True,
        )
        session.add(new)
        session.flush()
        session.add(
            Reading(
                meter_id=new.id,
                value=line.replaced_initial or 0,
                read_on=new.installed_on,
                source="inspector",
                application_id=line.application_id,
                created_at=at,
            )
        )
        audit.record(
            session,
            "meter_replaced",
            at=at,
            instance_id=instance_id,
            entity=entity,
            detail={
                "old_serial": meter.serial,
                "new_serial": new.serial,
                "initial": line.replaced_initial or 0,
                "seal": new.seal,
            },
        )
        return new
    if line.inspected_seal and line.inspected_seal != meter.seal:
        audit.record(
            session,
            "meter_seal_changed",
            at=at,
            instance_id=instance_id,
            entity=entity,
            detail={"serial": meter.serial, "from": meter.seal, "to": line.inspected_seal},
        )
        meter.seal = line.inspected_seal
    return None
