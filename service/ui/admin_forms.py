"""Form errors in plain English, every one at once: what the pages make of the API's refusals.

The pages validate a form with the API's own models (so they refuse what the API refuses) and
then call the use case. Pydantic's wording ("String should match pattern '^\\d{2}:\\d{2}$'") is
for programmers; a form shows each field's own message, or a plain translation of the kind of
error, against the field it is about.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError

from service.problems import Problem


def _plain(error: Any) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "This is required."
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return "Enter this." if least == 1 else f"Enter at least {least} characters."
    if kind == "string_too_long":
        return f"Use at most {ctx.get('max_length')} characters."
    if kind in ("greater_than_equal", "greater_than"):
        return f"Enter {ctx.get('ge', ctx.get('gt'))} or more."
    if kind in ("less_than_equal", "less_than"):
        return f"Enter {ctx.get('le', ctx.get('lt'))} or less."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "Enter a whole number."
    if kind in ("float_parsing", "float_type"):
        return "Enter a number."
    if kind.startswith("date"):
        return "Enter dates as YYYY-MM-DD, like 2026-12-25."
    if kind in ("literal_error", "uuid_parsing", "uuid_type", "enum"):
        return "Choose one of the options."
    if kind == "too_long":
        return f"Choose at most {ctx.get('max_length')}."
    message = str(error.get("msg", "This is not valid."))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def validation_errors(
    exc: ValidationError, messages: dict[str, str], prefix: str = ""
) -> dict[str, str]:
    """One message per form field: ``messages[field]`` where the form says what it wants, else
    a translation of the first error about that field."""
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(part) for part in error["loc"] if not isinstance(part, int)]
        field = prefix + (loc[0] if loc else "form")
        out.setdefault(field, messages.get(field) or _plain(error))
    return out


def problem_errors(exc: Problem, fields: dict[str, str], default: str) -> dict[str, str]:
    """A use case's refusal against the form's fields: ``fields`` maps the API's field names
    (``response_policy.opens_at``) to the form's; what names no field goes under ``default``."""
    out: dict[str, str] = {}
    for error in exc.extra.get("errors", []):
        message = str(error.get("message", exc.detail))
        name = str(error.get("field", ""))
        field = fields.get(name, default)
        out.setdefault(field, message[:1].upper() + message[1:])
    if not out:
        out[default] = exc.detail
    return out


def number(text: str) -> float | int:
    """A form's number as the API would take it in JSON: whole numbers as integers."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return int(value) if value.is_integer() else value
