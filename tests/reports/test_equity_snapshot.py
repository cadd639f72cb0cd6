"""Equity splits read frozen month-end groups: the same published figures as computed live."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.models import EquitySnapshot, Site
from service.reports import build
from service.reports.figures import FigureStore
from service.reports.groups import EQUITY_DIMENSIONS
from service.reports.snapshot import snapshot_month
from tests.reports.builders import Data, build_network

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _splits(session: Session) -> dict[tuple[str, str], object]:
    store = FigureStore(session, NOW)
    sites = session.scalars(select(Site).order_by(Site.code)).all()
    return {
        (site.code, by): build.equity_report(store, site, "2026-10", by)["metrics"]
        for site in sites
        for by in EQUITY_DIMENSIONS
    }


def test_frozen_equity_splits_are_the_live_ones(session: Session) -> None:
    data = Data(session)
    build_network(data)
    data.done()
    live = _splits(session)
    snapshot_month(session, "2026-10", NOW)
    frozen_rows = session.scalar(select(func.count()).select_from(EquitySnapshot))
    assert frozen_rows and frozen_rows > 0
    assert _splits(session) == live
    # Nothing live is read once frozen: the frozen rows are what the split shows.
    session.execute(update(EquitySnapshot).values(numerator=0, value=None))
    changed = _splits(session)
    assert changed != live
