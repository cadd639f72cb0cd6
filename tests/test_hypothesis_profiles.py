"""CI must run the derandomized profile: a profile that silently failed to load would bring the
coin toss back without any test noticing."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import hypothesis_profiles
from tests.hypothesis_profiles import choose_profile
from tests.support.soak import CI_SOAK_SEED, soak_seed


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"CI": "true"}, "ci"),
        ({"CI": "1"}, "ci"),
        ({}, "dev"),
        ({"CI": ""}, "dev"),
        ({"CI": "false"}, "dev"),
        ({"CI": "true", "HYPOTHESIS_PROFILE": "explore"}, "explore"),
        ({"HYPOTHESIS_PROFILE": "ci"}, "ci"),
    ],
)
def test_profile_follows_the_environment(environ: dict[str, str], expected: str) -> None:
    assert choose_profile(environ) == expected


def test_an_unknown_profile_name_is_refused() -> None:
    with pytest.raises(ValueError, match="HYPOTHESIS_PROFILE"):
        choose_profile({"HYPOTHESIS_PROFILE": "fast"})


def test_the_ci_profile_is_deterministic() -> None:
    ci = settings.get_profile("ci")
    assert ci.derandomize is True
    assert ci.database is None
    assert ci.print_blob is True
    assert ci.deadline is None


def test_this_run_loaded_the_profile_its_environment_asks_for() -> None:
    expected = choose_profile(os.environ)
    assert expected == hypothesis_profiles.LOADED
    assert hypothesis_profiles.active().derandomize is (expected == "ci")
    if expected == "ci":
        assert hypothesis_profiles.active().database is None


def test_under_ci_two_runs_of_a_property_draw_the_same_examples() -> None:
    if hypothesis_profiles.LOADED != "ci":
        pytest.skip("derandomized only under the ci profile (CI set)")

    def collect() -> list[int]:
        seen: list[int] = []

        @given(st.integers())
        def drawn(x: int) -> None:
            seen.append(x)

        drawn()
        return seen

    first, second = collect(), collect()
    assert first == second and len(first) > 1


def test_scaled_budgets_follow_the_loaded_profile() -> None:
    assert hypothesis_profiles.scaled(60) == 60 * hypothesis_profiles.active().max_examples // 100


def test_soak_runs_replay_one_schedule_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MHF_SOAK_SEED", raising=False)
    monkeypatch.setenv("CI", "true")
    assert soak_seed() == soak_seed() == CI_SOAK_SEED
    monkeypatch.setenv("MHF_SOAK_SEED", "42")
    assert soak_seed() == 42
