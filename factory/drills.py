"""Chaos drills: rehearse the recorded incident without its security flaws.

A drill makes one vendor's orders misbehave from its start time until someone
opens its report URL. The URL carries a per-drill random token and fix code,
never the vendor's API key.
"""

from __future__ import annotations

import hmac
import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from factory.keyring import Clock, utcnow
from factory.models import Drill


class DrillType(StrEnum):
    FAIL = "fail"
    THROTTLE = "throttle"
    BADJWT = "badjwt"


class UnknownDrillType(ValueError):
    """The drill type is not one of fail, throttle or badjwt."""


RESOLVED_MESSAGE = "Problem resolved. Pizza is back on the menu!"
UNRESOLVED_MESSAGE = "Problem unresolved"
NOTHING_RUNNING_MESSAGE = "No chaos currently executing"


def parse_type(value: str) -> DrillType:
    try:
        return DrillType(value)
    except ValueError:
        raise UnknownDrillType(
            f"unknown chaos type {value!r}: use fail, throttle or badjwt"
        ) from None


def random_start(now: datetime, window: tuple[float, float]) -> datetime:
    """A moment inside the configured window, so the vendor's on-call cannot see it coming."""
    low, high = window
    return now + timedelta(seconds=random.uniform(low, high))


def schedule(
    session: Session,
    vendor_id: str,
    drill_type: DrillType,
    starts_at: datetime,
    clock: Clock = utcnow,
) -> Drill:
    """Start (or replace) the vendor's drill; at most one is open per vendor."""
    now = clock()
    session.execute(
        update(Drill)
        .where(Drill.vendor_id == vendor_id, Drill.ended_at.is_(None))
        .values(ended_at=now, ended_by="replaced")
    )
    drill = Drill(
        id=uuid.uuid4().hex,
        vendor_id=vendor_id,
        type=drill_type.value,
        report_token=secrets.token_urlsafe(24),
        fix_code=secrets.token_urlsafe(12),
        scheduled_at=now,
        starts_at=starts_at,
        failures=0,
    )
    session.add(drill)
    session.commit()
    return drill


@dataclass(frozen=True)
class RunningDrill:
    """What an order needs of the drill running for its vendor."""

    id: str
    type: DrillType
    report_token: str
    fix_code: str
    first_failure_at: datetime | None


class HasReportSecrets(Protocol):
    report_token: str
    fix_code: str


def record_failure(connection: Connection, drill: RunningDrill, clock: Clock = utcnow) -> None:
    """Count a misbehaving order; the first one marks when the incident began."""
    values: dict[str, object] = {"failures": Drill.failures + 1}
    if drill.first_failure_at is None:
        values["first_failure_at"] = clock()
    connection.execute(update(Drill).where(Drill.id == drill.id).values(**values))
    connection.commit()


@dataclass(frozen=True)
class Resolution:
    status: int
    message: str


def resolve(session: Session, token: str, fix_code: str, clock: Clock = utcnow) -> Resolution:
    """What visiting a report URL does: end the running drill if the fix code matches."""
    drill = session.scalars(select(Drill).where(Drill.report_token == token)).one_or_none()
    if drill is None or drill.ended_at is not None or drill.starts_at > clock():
        return Resolution(200, NOTHING_RUNNING_MESSAGE)
    if not hmac.compare_digest(drill.fix_code.encode(), fix_code.encode()):
        return Resolution(400, UNRESOLVED_MESSAGE)
    drill.ended_at = clock()
    drill.ended_by = "report"
    session.commit()
    return Resolution(200, RESOLVED_MESSAGE)


def stop(session: Session, vendor_id: str, clock: Clock = utcnow) -> int:
    """End the vendor's open drill (an admin's decision); returns how many ended."""
    result = session.execute(
        update(Drill)
        .where(Drill.vendor_id == vendor_id, Drill.ended_at.is_(None))
        .values(ended_at=clock(), ended_by="admin")
    )
    session.commit()
    return result.rowcount or 0


def open_drills(session: Session) -> list[Drill]:
    return list(
        session.scalars(select(Drill).where(Drill.ended_at.is_(None)).order_by(Drill.starts_at))
    )


def history(session: Session, vendor_id: str | None = None) -> list[Drill]:
    statement = select(Drill).order_by(Drill.scheduled_at.desc())
    if vendor_id is not None:
        statement = statement.where(Drill.vendor_id == vendor_id)
    return list(session.scalars(statement))


def report_path(drill: HasReportSecrets) -> str:
    return f"/api/support/{drill.report_token}/report/{drill.fix_code}"


def summary(drill: Drill, now: datetime) -> dict[str, object]:
    """A drill as shown by `chaos status` and `chaos history`."""
    state = "ended" if drill.ended_at else ("running" if drill.starts_at <= now else "scheduled")
    time_to_resolve = None
    if drill.ended_at and drill.first_failure_at:
        time_to_resolve = (drill.ended_at - drill.first_failure_at).total_seconds()
    return {
        "id": drill.id,
        "vendor": drill.vendor_id,
        "type": drill.type,
        "state": state,
        "scheduled_at": drill.scheduled_at.isoformat(),
        "starts_at": drill.starts_at.isoformat(),
        "first_failure_at": drill.first_failure_at.isoformat() if drill.first_failure_at else None,
        "failures": drill.failures,
        "ended_at": drill.ended_at.isoformat() if drill.ended_at else None,
        "ended_by": drill.ended_by,
        "time_to_resolve_seconds": time_to_resolve,
    }
