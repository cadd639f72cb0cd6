"""A team's escalation contact: a UK telephone number or an https address, nothing else.

It is shown to the nurse working an escalated alert, as a link they can call or open, so it must
be something a link can be made of: free text ("ring Sue") cannot be dialled from the page, and
an address that is not https could be a page a stranger can change on the way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

# A UK number as people write it: +44 or 0, then 9 or 10 digits, with spaces, hyphens or the
# area code in brackets; the 0 after +44 that people often keep ("+44 (0)1332") is allowed.
_PHONE_CHARS = re.compile(r"^[0-9+()\s-]+$")
_NATIONAL = re.compile(r"^0[1-9][0-9]{8,9}$")
MAX_LENGTH = 320


@dataclass(frozen=True, slots=True)
class Contact:
    kind: Literal["phone", "url", "text"]
    text: str  # as stored and shown
    href: str  # tel:+44... or the https address; empty for text, which is shown unlinked


def parse_contact(value: str) -> Contact:
    """The contact ``value`` names; ValueError saying what is wrong otherwise."""
    text = value.strip()
    if not text or len(text) > MAX_LENGTH:
        raise ValueError(f"must be 1 to {MAX_LENGTH} characters")
    if text.lower().startswith(("http:", "https:", "//")) or "://" in text:
        return Contact("url", text, _https_url(text))
    if _PHONE_CHARS.match(text):
        return Contact("phone", text, "tel:+44" + _uk_number(text)[1:])
    raise ValueError("must be a UK telephone number (01332 000000) or an https:// address")


def parse_phone(value: str) -> Contact:
    """A patient's telephone number, which must be one the nurse can dial from the page."""
    text = value.strip()
    if not text or len(text) > 32 or not _PHONE_CHARS.match(text):
        raise ValueError("must be a UK telephone number, such as 07700 900123")
    return Contact("phone", text, "tel:+44" + _uk_number(text)[1:])


def contact_to_show(value: str | None) -> Contact | None:
    """The contact to show for a stored value (None if there is none). A value stored before
    the format was checked that is not one is still shown, as plain text with no link: the nurse
    needs it more than the format."""
    if not value:
        return None
    try:
        return parse_contact(value)
    except ValueError:
        return Contact("text", value, "")


def _uk_number(text: str) -> str:
    digits = re.sub(r"[\s()-]", "", text)
    if digits.startswith("+44"):
        digits = digits[3:]
        digits = "0" + digits[1:] if digits.startswith("0") else "0" + digits
    if "+" in digits or not _NATIONAL.match(digits):
        raise ValueError("is not a UK telephone number (10 or 11 digits, starting 0 or +44)")
    return digits


def _https_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme != "https":
        raise ValueError("an address must start with https://")
    if not parts.hostname or "." not in parts.hostname:
        raise ValueError("the address has no host name")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the address must not hold a user name or password")
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise ValueError("the address must not contain spaces")
    return text
