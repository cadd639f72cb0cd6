"""The shapes of what the reports publish: the JSON of each report, its CSV rows and chart data.

The API sends these as they are, the pages render them and ``mhf report`` writes them, so each
shape is written down once here. Key order is the order of the published JSON.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from service.reports.disclosure import Shown, ShownValue

# --- parts every report shares ----------------------------------------------------------------


class MetricHeader(TypedDict):
    id: str
    title: str
    section: str
    kind: str
    unit: str


class MetricDefinition(MetricHeader):
    """``GET /reports/metrics``: a metric's definition with the SQL of its units."""

    numerator: str
    denominator: str | None
    description: str
    higher_is_better: bool | None
    percentile: int | None
    sql: str


class CellJson(TypedDict):
    """A disclosed figure: ``*`` for a suppressed one, ``None`` where it is not published."""

    numerator: Shown | None
    denominator: Shown | None
    value: ShownValue


class SiteRef(TypedDict):
    id: str
    code: str
    name: str


class DisclosureMeta(TypedDict):
    """How the figures were protected; only ``applied`` (false) for a team's own report."""

    applied: bool
    suppressed_symbol: NotRequired[str]
    suppressed_counts: NotRequired[list[int]]
    rounding_base: NotRequired[int]
    percent_decimals: NotRequired[int]
    rules: NotRequired[list[str]]
    reader_model: NotRequired[dict[str, str]]
    least_possible_values: NotRequired[int]


class PeriodJson(TypedDict):
    first_day: str
    last_day: str


class ReportMeta(TypedDict):
    generated_at: str
    period: PeriodJson
    complete_month: bool
    trend_months: list[str]
    # Each month's figures: "snapshot" (frozen at month end) or "live".
    sources: dict[str, str]
    site_count: NotRequired[int]
    team_count: NotRequired[int]


# --- the network report -----------------------------------------------------------------------


class SiteFigure(TypedDict):
    site_id: str
    code: str
    numerator: Shown | None
    denominator: Shown | None
    value: ShownValue


class NetworkTrendPoint(TypedDict):
    month: str
    network: ShownValue
    sites: dict[str, ShownValue]


class NetworkMetric(MetricHeader):
    network: CellJson
    network_median: float | None
    sites: list[SiteFigure]
    trend: list[NetworkTrendPoint]


class NetworkReport(TypedDict):
    month: str
    source: str
    sites: list[SiteRef]
    metrics: list[NetworkMetric]
    disclosure: DisclosureMeta
    meta: ReportMeta


# --- the site report --------------------------------------------------------------------------


class TeamFigure(TypedDict):
    team_id: str
    name: str
    numerator: Shown | None
    denominator: Shown | None
    value: ShownValue


class SiteTrendPoint(TypedDict):
    month: str
    site: ShownValue
    network: ShownValue


class SiteMetric(MetricHeader):
    site: CellJson
    network: CellJson
    network_median: float | None
    teams: list[TeamFigure]
    trend: list[SiteTrendPoint]


class SiteReport(TypedDict):
    month: str
    source: str
    site: SiteRef
    metrics: list[SiteMetric]
    disclosure: DisclosureMeta
    meta: ReportMeta


# --- the equity split -------------------------------------------------------------------------


class GroupFigure(TypedDict):
    group: str
    numerator: Shown | None
    denominator: Shown | None
    value: ShownValue


class EquityMetric(MetricHeader):
    total: CellJson
    groups: list[GroupFigure]


class EquityMeta(TypedDict):
    generated_at: str
    source: str
    group_count: int
    # Age bands are ages on the period's last day.
    age_on: str


class EquityReport(TypedDict):
    month: str
    site: SiteRef
    by: str
    groups: list[str]
    metrics: list[EquityMetric]
    disclosure: DisclosureMeta
    meta: EquityMeta


# --- a team's own report (not suppressed) -----------------------------------------------------


class TeamRef(TypedDict):
    id: str
    name: str
    site_id: str


class UnsuppressedFigure(TypedDict):
    numerator: float | None
    denominator: float | None
    value: float | None
    people: int


class TeamTrendPoint(TypedDict):
    month: str
    value: float | None


class TeamMetric(MetricHeader):
    team: UnsuppressedFigure
    trend: list[TeamTrendPoint]


class TeamReport(TypedDict):
    month: str
    source: str
    team: TeamRef
    metrics: list[TeamMetric]
    disclosure: DisclosureMeta
    meta: ReportMeta


# --- charts -----------------------------------------------------------------------------------


class FunnelLimit(TypedDict):
    """The control limits, in the metric's unit (percent, or the rate), at one denominator
    (for a rate: its exposure)."""

    denominator: float
    lower_95: float
    upper_95: float
    lower_998: float
    upper_998: float


class FunnelPoint(TypedDict):
    """A site: for a rate, ``numerator`` is its events and ``denominator`` its exposure."""

    code: str
    numerator: int
    denominator: float
    # Where the site sits on the x-axis: its denominator, or its exposure for a rate, or the
    # (rounded) patients behind a proportion of days.
    x: float
    value: ShownValue


class FunnelMeta(TypedDict):
    site_count: int
    limits: list[str]
    generated_at: str


class FunnelCentre(TypedDict):
    """The network's figure the limits are drawn round; for a rate, its events over exposure."""

    numerator: Shown | None
    denominator: float | str | None
    value: ShownValue


class FunnelData(TypedDict):
    metric: MetricHeader
    month: str
    # "proportion" (binomial limits) or "rate" (exact Poisson limits, Spiegelhalter 2005).
    kind: str
    x_label: str
    y_label: str
    case_mix: str
    network: FunnelCentre
    points: list[FunnelPoint]
    suppressed_sites: list[str]
    limits: list[FunnelLimit]
    disclosure: DisclosureMeta
    meta: FunnelMeta


class TrendSeries(TypedDict):
    """One metric's values month by month: the network's and each site's (by code)."""

    metric: MetricHeader
    months: list[str]
    series: dict[str, list[ShownValue]]


# --- CSV --------------------------------------------------------------------------------------

# An empty cell where a figure is not published.
CsvFigure = int | float | str


class CsvRow(TypedDict):
    month: str
    scope: str
    site_code: str
    group: str
    metric_id: str
    unit: str
    numerator: CsvFigure
    denominator: CsvFigure
    value: CsvFigure
