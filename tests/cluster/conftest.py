"""Registers the ``soak`` / ``fuzz`` markers (until pyproject.toml lists them) and keeps these
long tests out of a plain ``pytest`` run: select them with ``-m soak`` or ``-m fuzz``."""

from __future__ import annotations

import pytest

from tests.hardening.support import register_markers, skip_unless_selected


def pytest_configure(config: pytest.Config) -> None:
    register_markers(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_unless_selected(config, items)
