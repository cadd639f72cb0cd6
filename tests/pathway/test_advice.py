"""Patient advice is plain English at a reading age of about 9-11 (FK grade <= 6)."""

from __future__ import annotations

import pytest

from pathway import Level, default_pathway
from pathway.advice import advise
from tests.support.readability import flesch_kincaid_grade


@pytest.mark.parametrize("code", sorted(default_pathway().advice))
def test_advice_reads_at_age_eleven_or_younger(code: str) -> None:
    text = default_pathway().advice[code].text
    assert flesch_kincaid_grade(text) <= 6.0, text


def test_grade_formula_sanity() -> None:
    assert flesch_kincaid_grade("The cat sat on the mat.") < 1
    long = "Interdisciplinary pharmacological optimisation necessitates comprehensive evaluation."
    assert flesch_kincaid_grade(long) > 12


def test_no_findings_is_green() -> None:
    advice = advise(default_pathway(), ())
    assert (advice.level, advice.code) == (Level.GREEN, "green")
