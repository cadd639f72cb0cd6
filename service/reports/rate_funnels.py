"""Funnel plots of rates across sites, with exact Poisson limits (``funnel.rate_funnel``).

Two sorts of rate are drawn:

- a registry rate of counted events (alerts per 100 patient-days): its shown numerator is the
  events, its shown denominator the exposure;
- events per patient-year for the counted outcomes (emergency admissions, bed days): the count
  metric's shown figure over the site's shown patient-months / 12.

Like the proportions' funnels (``build.funnel_data``) they are drawn from the disclosed, rounded
figures: a site whose events or exposure are hidden is listed as not shown. A rate of minutes
(staff minutes per alert) is not a count of events, so Poisson limits do not describe it: those
metrics answer 422.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.problems import field_error
from service.reports import build
from service.reports.build import CASE_MIX_NOTE, disclosure_meta, metric_header
from service.reports.disclosure import Cell
from service.reports.figures import FigureStore
from service.reports.funnel import rate_funnel
from service.reports.metrics import REGISTRY, Metric
from service.reports.shapes import FunnelCentre, FunnelData, FunnelLimit, FunnelPoint

EXPOSURE_METRIC = "patient_months"
MONTHS_PER_YEAR = 12


@dataclass(frozen=True, slots=True)
class RateSpec:
    """How a metric's sites become (events, exposure): ``per`` scales the rate for reading."""

    x_label: str
    y_label: str
    per: float
    per_patient_year: bool


# Counts of events drawn per patient-year of monitoring.
PER_PATIENT_YEAR = ("admissions_hf", "admissions_all_cause", "readmissions_30d", "bed_days")
COUNTED_RATES = {
    "alerts_per_100_patient_days": RateSpec(
        "Patient-days on the pathway", "Alerts per 100 patient-days", 100.0, False
    )
}


def rate_spec(metric: Metric) -> RateSpec | None:
    if metric.id in PER_PATIENT_YEAR:
        return RateSpec(
            "Patient-years on the pathway", f"{metric.title} per patient-year", 1.0, True
        )
    return COUNTED_RATES.get(metric.id)


def funnel_metric(metric_id: str) -> Metric:
    """A metric a funnel can be drawn for; 422 naming ``metric`` otherwise."""
    metric = REGISTRY.get(metric_id)
    if metric is None:
        raise field_error("metric", "unknown metric id (see GET /api/v1/reports/metrics)")
    if metric.is_proportion or rate_spec(metric) is not None:
        return metric
    if metric.kind == "rate":
        raise field_error("metric", "minutes are not counted events: no Poisson funnel for them")
    raise field_error(
        "metric",
        "funnel plots are drawn for proportions and for rates of counted events "
        f"(and per patient-year for {', '.join(PER_PATIENT_YEAR)})",
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _events_exposure(spec: RateSpec, cell: Cell, exposure: Cell) -> tuple[int, float] | None:
    if spec.per_patient_year:
        events, months = _int(cell.numerator), _int(exposure.numerator)
        if events is None or months is None or months <= 0:
            return None
        return events, months / MONTHS_PER_YEAR
    events, days = _int(cell.numerator), _int(cell.denominator)
    if events is None or days is None or days <= 0 or isinstance(cell.value, str):
        return None
    return events, float(days)


def rate_funnel_data(store: FigureStore, metric: Metric, month: str) -> FunnelData:
    spec = rate_spec(metric)
    assert spec is not None, f"{metric.id} has no rate funnel"
    all_sites = store.sites()
    month_cells = store.by_site([month])[month]
    cells = month_cells[metric.id]
    exposure_cells = month_cells[EXPOSURE_METRIC]
    units: list[tuple[str, int, float]] = []
    suppressed: list[str] = []
    for site in all_sites:
        pair = _events_exposure(spec, cells.sites[site.id], exposure_cells.sites[site.id])
        if pair is None:
            suppressed.append(site.code)
        else:
            units.append((site.code, *pair))
    network = _events_exposure(spec, cells.network, exposure_cells.network)
    # The network's own shown figures are the centre line, as for proportions.
    target = network[0] / network[1] if network is not None and network[1] > 0 else None
    funnel = rate_funnel(units, target_rate=target)
    per = spec.per
    points: list[FunnelPoint] = [
        {
            "code": u.code,
            "numerator": u.events,
            "denominator": round(u.exposure, 2),
            "x": round(u.exposure, 2),
            "value": None if u.rate is None else round(u.rate * per, 2),
        }
        for u in funnel.units
    ]
    limits: list[FunnelLimit] = [
        {
            "denominator": round(row.exposure, 3),
            "lower_95": round(row.lower_95 * per, 4),
            "upper_95": round(row.upper_95 * per, 4),
            "lower_998": round(row.lower_998 * per, 4),
            "upper_998": round(row.upper_998 * per, 4),
        }
        for row in funnel.limits
    ]
    network_json: FunnelCentre = {"numerator": None, "denominator": None, "value": None}
    if network is not None:
        network_json = {
            "numerator": network[0],
            "denominator": round(network[1], 2),
            "value": round(network[0] / network[1] * per, 2),
        }
    elif isinstance(cells.network.value, str):
        network_json["value"] = cells.network.value
    return {
        "metric": metric_header(metric),
        "month": month,
        "kind": "rate",
        "x_label": spec.x_label,
        "y_label": spec.y_label,
        "case_mix": CASE_MIX_NOTE,
        "network": network_json,
        "points": points,
        "suppressed_sites": suppressed,
        "limits": limits if target is not None else [],
        "disclosure": disclosure_meta(),
        "meta": {
            "site_count": len(all_sites),
            "limits": ["95%", "99.8%"],
            "generated_at": store.now.isoformat(),
        },
    }


def funnel_of(store: FigureStore, metric: Metric, month: str) -> FunnelData:
    """The funnel of a metric ``funnel_metric`` accepts: a proportion's, or a rate's with
    Poisson limits (the API, the page and the pack all draw it from here)."""
    if metric.is_proportion:
        return build.funnel_data(store, metric, month)
    return rate_funnel_data(store, metric, month)


def has_funnel(metric: Metric) -> bool:
    return metric.is_proportion or rate_spec(metric) is not None
