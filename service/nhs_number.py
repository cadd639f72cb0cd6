"""NHS number: 10 digits, the last a modulus 11 check digit (NHS Data Dictionary)."""

from __future__ import annotations

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def normalise_nhs_number(value: str) -> str:
    return "".join(value.split())


def check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when no valid check digit exists (remainder 10)."""
    total = sum(int(d) * w for d, w in zip(first_nine, _WEIGHTS, strict=True))
    digit = 11 - (total % 11)
    if digit == 11:
        return 0
    if digit == 10:
        return None
    return digit


def is_valid_nhs_number(value: str) -> bool:
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    return check_digit(value[:9]) == int(value[9])


def format_nhs_number(value: str) -> str:
    return f"{value[:3]} {value[3:6]} {value[6:]}"


def made_up_nhs_number(index: int) -> str:
    """A valid NHS number that is no one's: the 999 prefix is never issued, so demos and tests
    can use it safely. Distinct for distinct ``index`` (below a million)."""
    for k in range(10):
        first_nine = f"999{index * 10 + k:06d}"
        digit = check_digit(first_nine)
        if digit is not None:
            return first_nine + str(digit)
    raise AssertionError("unreachable: one in ten check digits is invalid at most")
