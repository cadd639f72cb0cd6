"""Edits by JSON Merge Patch (RFC 7396), and the history of settings they leave.

Every PATCH of the API merges: a member left out is kept, ``null`` removes it, an object is
merged member by member. So a change to one threshold can never drop another that the request
did not mention. A change to a patient's thresholds or a site's settings is kept with who made
it, when, and the value before and after.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import SettingChange, User


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 section 2, MergePatch(Target, Patch). ``None`` is JSON ``null``: as the whole
    patch it removes the target (the caller stores its empty value)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def merge_patch_to(before: Any, after: Any) -> Any:
    """The merge patch that turns ``before`` into ``after`` (the inverse of ``merge_patch``).

    A form shows the whole of a setting and sends the whole of it back; the page turns that into
    the same kind of patch the API takes, so both go through one validated path. JSON ``null``
    values cannot be kept this way, which is fine for settings: null there means "the default".
    """
    if not isinstance(after, dict) or not isinstance(before, dict):
        return after
    patch: dict[str, Any] = {name: None for name in before if name not in after}
    for name, value in after.items():
        if name not in before:
            patch[name] = value
        elif before[name] != value:
            patch[name] = merge_patch_to(before[name], value)
    return patch


def record(
    session: Session,
    subject: str,
    subject_id: uuid.UUID,
    setting: str,
    before: Any,
    after: Any,
    changed_by: uuid.UUID | None,
    now: datetime,
) -> None:
    """Keep one change of one setting (callers record only real changes)."""
    session.add(
        SettingChange(
            subject=subject,
            subject_id=subject_id,
            setting=setting,
            before=before,
            after=after,
            changed_by=changed_by,
            changed_at=now,
        )
    )


def history(session: Session, subject: str, subject_id: uuid.UUID) -> list[dict[str, Any]]:
    """The changes of a patient's or site's settings, newest first, with who made them."""
    rows = session.execute(
        select(SettingChange, User.username, User.display_name)
        .outerjoin(User, User.id == SettingChange.changed_by)
        .where(SettingChange.subject == subject, SettingChange.subject_id == subject_id)
        .order_by(SettingChange.changed_at.desc(), SettingChange.id.desc())
    ).all()
    return [
        {
            "setting": row.setting,
            "before": row.before,
            "after": row.after,
            "changed_by": row.changed_by,
            "changed_by_name": display_name or username,
            "changed_at": row.changed_at,
        }
        for row, username, display_name in rows
    ]
