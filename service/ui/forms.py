"""Form errors in words a nurse reads: every field's problem at once, named by its label.

The API's validation (pydantic, the use cases' ``Problem``) says "Input should be greater than
or equal to 85"; a form says "Red: SpO2 at or below must be 85 % or more". These turn either into
``{field: message}`` for the error summary and the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from service.problems import Problem


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
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"{label} must be a whole number."
    if kind in ("float_parsing", "decimal_parsing", "float_type"):
        return f"{label} must be a number."
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"{label} must be a real date, for example 17 5 1950."
    if kind in ("literal_error", "enum"):
        return f"Choose {label.lower()} from the list."
    if kind == "string_too_long":
        return f"{label} must be {ctx.get('max_length')} characters or fewer."
    if kind in ("bool_parsing", "bool_type"):
        return f"Choose yes or no for {label.lower()}."
    words = raw.removeprefix("Value error, ")
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
    exc: ValidationError, labels: Mapping[str, str], prefix: str = ""
) -> dict[str, str]:
    """Every field's first problem, keyed by field name (a nested field by its last part)."""
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
        field = loc[-1] if loc else "form"
        field = field.removeprefix(prefix)
        if field in errors:
            continue
        if not loc or (err["type"] == "value_error" and field not in labels):
            errors["form"] = _whole_form(str(err["msg"]), labels)
            continue
        errors[field] = plain_message(
            str(err["type"]), _label(labels, field), err.get("ctx") or {}, str(err["msg"])
        )
    return errors


def problem_errors(exc: Problem, labels: Mapping[str, str], prefix: str = "") -> dict[str, str]:
    """The fields a use case's 422 names, in words; empty if it names none."""
    errors: dict[str, str] = {}
    for err in exc.extra.get("errors", []):
        field = str(err.get("field", "")).removeprefix(prefix).rsplit(".", 1)[-1]
        message = str(err.get("message", exc.detail))
        label = _label(labels, field)
        errors[field] = f"{label} {message}." if not message.endswith(".") else message
    return errors
