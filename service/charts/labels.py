"""A published figure and a report month as words, one style for every page, chart and pack."""

from __future__ import annotations

from datetime import date
from typing import Any

SUPPRESSED = "*"


def shown(value: Any, unit: str = "") -> str:
    """A published figure as text: suppressed stays "*", nothing is a dash, % gets its sign."""
    if value is None:
        return "\u2013"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.1f}"
    else:
        text = f"{int(value):,}"
    return f"{text}%" if unit == "%" else text


def _month_start(month: str) -> date:
    year, mon = (int(p) for p in month.split("-"))
    return date(year, mon, 1)


def month_name(month: str) -> str:
    return _month_start(month).strftime("%B %Y")


def month_tick(month: str) -> str:
    """A chart's month label, one style for every report chart: "Nov 2025"."""
    return _month_start(month).strftime("%b %Y")
