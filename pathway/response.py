"""When the team is expected to have acted on an alert, in Europe/London working time."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from pathway.config import PathwayConfig
from pathway.model import Level
from pathway.window import LONDON

# Working day 09:00-17:00 Monday to Friday; bank holidays are the service's concern.
DAY_START = time(9)
DAY_END = time(17)


def _next_working_start(local: datetime) -> datetime:
    moment = local
    while True:
        if moment.weekday() < 5 and moment.time() < DAY_END:
            start = moment.replace(hour=9, minute=0, second=0, microsecond=0)
            return max(moment, start)
        moment = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def response_due(config: PathwayConfig, level: Level, raised_at: datetime) -> datetime:
    """The time by which an alert of this level should have been acted on."""
    rule = config.response_times[level]
    local = raised_at.astimezone(LONDON)
    if rule.working_hours is not None:
        remaining = timedelta(hours=rule.working_hours)
        moment = _next_working_start(local)
        while True:
            end_of_day = moment.replace(hour=17, minute=0, second=0, microsecond=0)
            if moment + remaining <= end_of_day:
                return moment + remaining
            remaining -= end_of_day - moment
            moment = _next_working_start((end_of_day + timedelta(days=1)).replace(hour=0))
    days = rule.working_days if rule.working_days is not None else 1
    moment = local
    for _ in range(days):
        moment = _next_working_start(
            (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        )
    return moment.replace(hour=17, minute=0, second=0, microsecond=0)
