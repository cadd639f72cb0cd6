"""Response times: the pathway's working calendar (``pathway.response``), which the replay
counts with too, and ``is_overdue`` from ``alerts.lifecycle`` (escalation needs it)."""

from __future__ import annotations

from alerts.lifecycle import is_overdue
from pathway.response import ResponsePolicy, due_at

__all__ = ["ResponsePolicy", "due_at", "is_overdue"]
