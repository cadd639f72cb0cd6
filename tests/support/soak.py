"""The soak and fuzz tests: kept out of a plain run, and seeded so that CI replays them."""

from __future__ import annotations

import os
import random

import pytest

from tests.hypothesis_profiles import under_ci

SOAK_MARKERS = ("soak", "fuzz")


def skip_unless_selected(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Soak and fuzz tests take minutes: they run only when ``-m`` names their marker (or
    MHF_SOAK=1), so a plain ``make test`` stays fast."""
    expr = config.getoption("markexpr", "") or ""
    forced = os.environ.get("MHF_SOAK") == "1"
    for item in items:
        for name in SOAK_MARKERS:
            if item.get_closest_marker(name) and name not in expr and not forced:
                item.add_marker(pytest.mark.skip(reason=f"{name} test: run with -m {name}"))


# Under CI every soak run drives the same schedule of loads and faults, so a failure is the
# change's and replays; elsewhere each run tries a fresh one.
CI_SOAK_SEED = 20261207


def soak_seed() -> int:
    """MHF_SOAK_SEED if set, else a fixed seed under CI, else a random one (printed to replay)."""
    if "MHF_SOAK_SEED" in os.environ:
        return int(os.environ["MHF_SOAK_SEED"])
    return CI_SOAK_SEED if under_ci() else random.randrange(1_000_000)
