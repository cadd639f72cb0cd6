"""Hypothesis profiles: the same examples on every CI run, random exploration everywhere else.

A property test once found a real defect by chance in CI and passed again on the next run, so a
red or green CI said as much about the draw as about the change. In CI (``CI`` set, as every CI
system does) the ``ci`` profile derandomizes: each test draws from a seed derived from the test
itself, so every run of ``.ci/run`` tries exactly the same examples and a failure reproduces.
Exploration for new counterexamples happens off the gate: ``dev`` (the default locally) draws at
random, ``make explore`` (``HYPOTHESIS_PROFILE=explore``) draws many more. A counterexample found
there is pinned with ``@example`` so that CI keeps trying it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from hypothesis import HealthCheck, settings

DEFAULT_MAX_EXAMPLES = 100  # Hypothesis's own default, the base that ``scaled`` multiplies
EXPLORE_MAX_EXAMPLES = 20 * DEFAULT_MAX_EXAMPLES

settings.register_profile(
    "ci",
    derandomize=True,
    # Derandomized runs must not replay a local example database either: CI sees only the
    # examples the code and its @example pins determine.
    database=None,
    print_blob=True,
    # Both depend on how busy the shared runner is, not on the code: a deadline or a
    # too_slow health check would turn machine load back into a coin toss.
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", print_blob=True)
settings.register_profile(
    "explore",
    max_examples=EXPLORE_MAX_EXAMPLES,
    print_blob=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

PROFILES = ("ci", "dev", "explore")


def under_ci(environ: Mapping[str, str] = os.environ) -> bool:
    """``CI`` set to anything but an empty or false value, as CI systems set it."""
    value = environ.get("CI")
    return value is not None and value.strip().lower() not in ("", "0", "false", "no")


def choose_profile(environ: Mapping[str, str]) -> str:
    """``HYPOTHESIS_PROFILE`` if named, else ``ci`` under CI, else ``dev``."""
    named = environ.get("HYPOTHESIS_PROFILE")
    if named:
        if named not in PROFILES:
            raise ValueError(f"HYPOTHESIS_PROFILE={named!r}: expected one of {PROFILES}")
        return named
    return "ci" if under_ci(environ) else "dev"


def load(environ: Mapping[str, str] = os.environ) -> str:
    name = choose_profile(environ)
    settings.load_profile(name)
    return name


def active() -> settings:
    """The loaded profile's settings. Hypothesis types ``settings.default`` as optional: it is
    None only before any profile is loaded, and importing this module loads one."""
    current = settings.default
    assert current is not None, "no hypothesis profile is loaded"
    return current


def scaled(max_examples: int) -> int:
    """A test's own example budget, grown in proportion under ``explore``: a budget written
    into @settings would otherwise override every profile's."""
    return max(1, max_examples * active().max_examples // DEFAULT_MAX_EXAMPLES)


def describe() -> str:
    s = active()
    return (
        f"hypothesis profile: {LOADED} (derandomize={s.derandomize}, "
        f"database={'none' if s.database is None else type(s.database).__name__}, "
        f"max_examples={s.max_examples}, deadline={s.deadline})"
    )


LOADED = load()
