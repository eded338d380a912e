"""Tables of the meter-reading domain: subscribers, meters, readings, tariffs, applications, invoices."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base, utcnow

TZ = DateTime(timezone=True)
MONEY = Numeric(12, 2)
PRICE = Numeric(10, 4)


class Subscriber(Base):
    """A water account (abonent) as the information system holds it."""

    __tablename__ = "subscriber"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    fin: Mapped[str | None] = mapped_column(String(7), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    patronymic: Mapped[str] = mapped_column(String(100), default="")
    city: Mapped[str] = mapped_column(String(100))
    street: Mapped[str] = mapped_column(String(200))
    house: Mapped[str] = mapped_column(String(20))
    flat: Mapped[str | None] = mapped_column(String(20))
    district: Mapped[str] = mapped_column(String(32), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    consumer_group: Mapped[str] = mapped_column(String(20), default="population")
    tariff_region: Mapped[str] = mapped_column(String(16), default="baku")
    persons: Mapped[int | None] = mapped_column(Integer)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))

    meters: Mapped[list[Meter]] = relationship(back_populates="subscriber", order_by="Meter.id")

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @property
    def address(self) -> str:
        flat = f", m. {self.flat}" if self.flat else ""
        return f"{self.city}, {self.street} {self.house}{flat}"


class Meter(Base):
    __tablename__ = "meter"
    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id"), index=True)
    serial: Mapped[str] = mapped_column(String(32), unique=True)
    seal: Mapped[str] = mapped_column(String(32))
    register_digits: Mapped[int] = mapped_column(Integer, default=5)
    installed_on: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(default=True)

    subscriber: Mapped[Subscriber] = relationship(back_populates="meters")


class Reading(Base):
    """A posted reading. Source: citizen, inspector, estimate or utility (a routine read)."""

    __tablename__ = "reading"
    __table_args__ = (Index("ix_reading_meter_date", "meter_id", "read_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"))
    value: Mapped[int] = mapped_column(Integer)
    read_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class Tariff(Base):
    """A VAT-inclusive price per m³ for a consumer group and region over a date range."""

    __tablename__ = "tariff"
    id: Mapped[int] = mapped_column(primary_key=True)
    consumer_group: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(16))
    water_price: Mapped[Decimal] = mapped_column(PRICE)
    sewer_price: Mapped[Decimal] = mapped_column(PRICE)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    decision: Mapped[str] = mapped_column(String(200), default="")


class Application(Base):
    """A citizen's submission of readings, tied to the process instance that carries it."""

    __tablename__ = "application"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(20), unique=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id"), index=True)
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="registered", index=True)
    conflict: Mapped[bool] = mapped_column(default=False)
    decision: Mapped[str | None] = mapped_column(String(16))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    reject_key: Mapped[str | None] = mapped_column(
        String(200)
    )  # the configured reason (a message id)
    submitted_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(TZ)

    lines: Mapped[list[ApplicationMeter]] = relationship(
        back_populates="application", order_by="ApplicationMeter.id"
    )
    subscriber: Mapped[Subscriber] = relationship()


class ApplicationMeter(Base):
    """One meter's declared reading in an application, with its flags and any on-site result."""

    __tablename__ = "application_meter"
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"), index=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"))
    declared_serial: Mapped[str] = mapped_column(String(32))
    declared_seal: Mapped[str] = mapped_column(String(32))
    value: Mapped[int] = mapped_column(Integer)
    read_on: Mapped[date] = mapped_column(Date)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    confirmed_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    inspected_value: Mapped[int | None] = mapped_column(Integer)
    inspected_on: Mapped[date | None] = mapped_column(Date)
    inspected_seal: Mapped[str | None] = mapped_column(String(32))
    inspected_serial_ok: Mapped[bool | None] = mapped_column()
    inspected_seal_intact: Mapped[bool | None] = mapped_column()
    inspected_photo_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    inspected_at: Mapped[datetime | None] = mapped_column(TZ)
    # the inspector replaced the meter: the new meter's serial and its reading when installed
    replaced_serial: Mapped[str | None] = mapped_column(String(32))
    replaced_initial: Mapped[int | None] = mapped_column(Integer)
    posted_reading_id: Mapped[int | None] = mapped_column(ForeignKey("reading.id"))

    application: Mapped[Application] = relationship(back_populates="lines")
    meter: Mapped[Meter] = relationship()


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (UniqueConstraint("application_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscriber.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    consumption_m3: Mapped[int] = mapped_column(Integer)
    bill: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # lines and totals as JSON (billing.Bill.to_dict)
    gross: Mapped[Decimal] = mapped_column(MONEY)
    vat: Mapped[Decimal] = mapped_column(MONEY)
    net: Mapped[Decimal] = mapped_column(MONEY)
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    pdf_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
