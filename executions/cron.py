"""Cron expressions and next-run times for schedules, in the schedule's own time zone.

Beat fires cron schedules through django-celery-beat's time-zone-aware crontab; the next-run time
shown to people is computed with that same class, so what we show is what beat will do. Across a
DST change a wall-clock time keeps its meaning ("09:00 in Berlin" stays 09:00 local, its UTC
instant moves); a time skipped by a spring-forward runs at the equivalent instant just after the
gap, and a time repeated by a fall-back runs once, at its first occurrence.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from celery.schedules import crontab
from django_celery_beat.tzcrontab import TzAwareCrontab

FIELD_NAMES = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


class CronInvalid(ValueError):
    """The expression is not five valid cron fields; the message says which part is wrong."""


@dataclass(frozen=True)
class CronFields:
    minute: str
    hour: str
    day_of_month: str
    month_of_year: str
    day_of_week: str

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FIELD_NAMES}


def cron_parse(expression: str) -> CronFields:
    """Split and check `minute hour day-of-month month day-of-week`; raises CronInvalid."""
    parts = (expression or "").split()
    if len(parts) != 5:
        raise CronInvalid(
            f"Expected 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}: {expression!r}."
        )
    fields = CronFields(*parts)
    try:
        # Celery expands every field and rejects values out of range ("61", "mon-xyz", "*/0").
        crontab(**fields.as_dict())
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise CronInvalid(f"Invalid cron expression {expression!r}: {exc}") from None
    return fields


def timezone_valid(name: str) -> bool:
    if name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def cron_next_run(expression: str, timezone_name: str, *, after: datetime.datetime) -> datetime.datetime:
    """The first time strictly after `after` at which the expression fires, as an aware UTC datetime."""
    fields = cron_parse(expression)
    zone = ZoneInfo(timezone_name)
    local_after = after.astimezone(zone)
    schedule = TzAwareCrontab(**fields.as_dict(), tz=zone)
    # remaining_estimate measures from "now"; pin it to `after` so the answer is deterministic.
    schedule.nowfun = lambda: local_after
    remaining = schedule.remaining_estimate(local_after)
    # Beat sleeps `remaining` in real time: add it to an instant, not to a local wall-clock time.
    return after.astimezone(datetime.UTC) + remaining


def interval_next_run(every_seconds: int, *, since: datetime.datetime, after: datetime.datetime) -> datetime.datetime:
    """The first tick strictly after `after` of a fixed interval counted from `since`."""
    step = datetime.timedelta(seconds=every_seconds)
    if after < since:
        return since + step
    ticks = (after - since) // step + 1
    return since + ticks * step
