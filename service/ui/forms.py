"""Form errors in words a nurse or an administrator reads: every field's problem at once, named
by its label, for every form of the pages (the patient record's and the admin pages').

The pages validate a form with the API's own models (so they refuse what the API refuses) and
then call the use case. The API's validation (pydantic, the use cases' ``Problem``) says "Input
should be greater than or equal to 85"; a form says "Red: SpO2 at or below must be 85 % or more",
or the form's own sentence for the field where it has one ("Enter a time as HH:MM, like 08:30.").
These turn either into ``{field: message}`` for the error summary and the fields.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from service.problems import Problem

_EMPTY: Mapping[str, str] = {}


def _label(labels: Mapping[str, str], field: str) -> str:
    return labels.get(field, field.replace("_", " ").capitalize())


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def plain_message(kind: str, label: str, ctx: Mapping[str, Any], raw: str) -> str:
    """One pydantic error type in words."""
    if kind == "missing":
        return f"Enter {label.lower()}."
    if kind in ("greater_than_equal", "greater_than"):
        return f"{label} must be {_number(ctx.get('ge', ctx.get('gt')))} or more."
    if kind in ("less_than_equal", "less_than"):
        return f"{label} must be {_number(ctx.get('le', ctx.get('lt')))} or less."
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"Choose {label.lower()}."
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        if least == 1:
            return f"Enter {label.lower()}."
        return f"{label} must be at least {least} characters."
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"{label} must be a whole number."
    if kind in ("float_parsing", "decimal_parsing", "float_type"):
        return f"{label} must be a number."
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"{label} must be a real date, for example 17 5 1950."
    if kind in ("literal_error", "enum", "uuid_parsing", "uuid_type"):
        return f"Choose {label.lower()} from the list."
    if kind == "string_too_long":
        return f"{label} must be {ctx.get('max_length')} characters or fewer."
    if kind == "too_long":
        return f"Choose at most {ctx.get('max_length')} for {label.lower()}."
    if kind in ("bool_parsing", "bool_type"):
        return f"Choose yes or no for {label.lower()}."
    words = raw.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if words.startswith("not "):
        return f"{label} is {words}."
    if words.startswith(("is ", "must ", "cannot ")):
        return f"{label} {words}."
    return f"{label}: {words}."


def _whole_form(raw: str, labels: Mapping[str, str]) -> str:
    """A check across fields, its field names put in the form's words."""
    words = raw.removeprefix("Value error, ")
    for name, label in labels.items():
        words = words.replace(name, label.lower())
    return words[:1].upper() + words[1:] + ("" if words.endswith(".") else ".")


def validation_errors(
    exc: ValidationError,
    labels: Mapping[str, str] = _EMPTY,
    *,
    messages: Mapping[str, str] = _EMPTY,
    prefix: str = "",
) -> dict[str, str]:
    """Every field's first problem, keyed by ``prefix`` and the field's name (a nested field by
    its last part): the form's own sentence for the field in ``messages`` where it has one,
    else the kind of error in words, the field named by its label. A check across fields goes
    under ``prefix + "form"``."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
        name = loc[-1] if loc else "form"
        known = name in labels or name in messages
        if not loc or (err["type"] == "value_error" and not known):
            errors.setdefault(prefix + "form", _whole_form(str(err["msg"]), labels))
        elif name in messages:
            errors.setdefault(prefix + name, messages[name])
        else:
            message = plain_message(
                str(err["type"]), _label(labels, name), err.get("ctx") or {}, str(err["msg"])
            )
            errors.setdefault(prefix + name, message)
    return errors


def problem_errors(
    exc: Problem,
    labels: Mapping[str, str] = _EMPTY,
    *,
    fields: Mapping[str, str] = _EMPTY,
    default: str | None = None,
    prefix: str = "",
) -> dict[str, str]:
    """The fields a use case's refusal names, in words, keyed by ``prefix`` and the form's field:
    ``fields`` maps the API's field names (``response_policy.opens_at``) to the form's, else a
    field is the last part of the API's name (``thresholds.pulse_low_amber``). With a
    ``default``, what names none of the form's fields goes under it, and so does a refusal that
    names no field; without one, such a refusal gives nothing and the caller says it whole."""
    errors: dict[str, str] = {}
    for err in exc.extra.get("errors", []):
        name = str(err.get("field", ""))
        field = fields.get(name)
        if field is None:
            last = name.rsplit(".", 1)[-1]
            field = last if default is None or last in labels else default
        message = str(err.get("message", exc.detail))
        if field in labels and not message.endswith("."):
            message = f"{labels[field]} {message}."
        errors.setdefault(prefix + field, message[:1].upper() + message[1:])
    if not errors and default is not None:
        errors[prefix + default] = exc.detail
    return errors


def number(text: str) -> float | int:
    """A form's number as the API would take it in JSON: whole numbers as integers."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return int(value) if value.is_integer() else value
