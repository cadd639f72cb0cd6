"""dm+d identifiers: SNOMED CT identifiers (SCTIDs) of concepts in the UK Drug Extension.

An SCTID is 6 to 18 digits with no leading zero; its last digit is a Verhoeff check digit and
the two before it the partition: ``00`` a concept in the short format, ``10`` a concept in the
long format that extensions (dm+d's namespace 1000001) use. Descriptions and relationships have
other partitions, so a description id pasted by mistake is refused (SNOMED International,
Technical Implementation Guide, section 6.1-6.3).
"""

from __future__ import annotations

import re

_SHAPE = re.compile(r"^[1-9][0-9]{5,17}$")
CONCEPT_PARTITIONS = ("00", "10")

# Verhoeff's dihedral-group tables: multiplication, position permutation.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_valid(digits: str) -> bool:
    """True when the last digit is the Verhoeff check digit of the ones before it."""
    check = 0
    for position, digit in enumerate(reversed(digits)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


def concept_id_problem(value: str) -> str | None:
    """Why ``value`` cannot be a SNOMED CT (dm+d) concept id, or None if it can."""
    if not _SHAPE.match(value):
        return "a dm+d code is 6 to 18 digits, not starting with 0"
    if not verhoeff_valid(value):
        return "the dm+d code's check digit is wrong: check it was copied in full"
    if value[-3:-1] not in CONCEPT_PARTITIONS:
        return "the code is a SNOMED CT description or relationship id, not a concept"
    return None
