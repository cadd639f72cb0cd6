"""The pack's ``index.html``: one page that reads offline, shows every table and chart of the
pack and links every file in it, by relative links.

Rendered by Jinja2 with autoescaping on: site and team names, framework names and each site's
lessons are people's input, and are only ever text here. The page carries its own CSS (no
network, no scripts) and is written for assistive technology: headings in order, a caption on
every table, header cells with scope, alt text on every chart.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from service.reports import disclosure
from service.reports.period import parse_month

if TYPE_CHECKING:
    from service.reports.pack import PackContents

# The variation icons of Making Data Count, in words (the pack draws no icons).
VARIATION_WORDS: dict[str, str] = {
    "common_cause": "Common cause: no significant change",
    "improvement_high": "Special cause: improvement (high)",
    "improvement_low": "Special cause: improvement (low)",
    "concern_high": "Special cause: concern (high)",
    "concern_low": "Special cause: concern (low)",
    "neither_high": "Special cause: higher (neither better nor worse)",
    "neither_low": "Special cause: lower (neither better nor worse)",
}

SECTION_TITLES = {
    "caseload": "Caseload and flow",
    "adherence": "Adherence",
    "alerts": "Alerts",
    "outcomes": "Outcomes",
    "medicines": "Medicines",
    "patient_reported": "Patient-reported outcomes",
    "resources": "Resources: patient-months and staff time",
}
EQUITY_TITLES = {
    "imd_quintile": "IMD quintile (1 = most deprived)",
    "ethnicity": "Ethnic group",
    "age_band": "Age band",
    "sex": "Sex",
}
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def safe(code: str) -> str:
    """Site codes become file names: keep them to characters every file system accepts."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in code)


def shown(value: Any, unit: str = "") -> str:
    """A published figure as text: suppressed stays ``*``, nothing is a dash, % gets its sign."""
    if value is None or value == "":
        return "\u2013"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.1f}"
    else:
        text = f"{int(value):,}"
    return f"{text}%" if unit == "%" else text


def month_name(month: str) -> str:
    """2026-10 as "October 2026": no two-digit years to misread."""
    year, mon = parse_month(month)
    return f"{MONTH_NAMES[mon - 1]} {year}"


_env.filters.update(shown=shown, month_name=month_name)


def index_html(contents: PackContents) -> str:
    network = contents.network
    sections: dict[str, list[Any]] = {}
    for row in network["metrics"]:
        sections.setdefault(row["section"], []).append(row)
    listed = sorted(contents.paths.values())
    return _env.get_template("pack_index.html").render(
        c=contents,
        network=network,
        sections=sections,
        section_titles=SECTION_TITLES,
        equity_titles=EQUITY_TITLES,
        metric_titles={m["id"]: m["title"] for m in network["metrics"]},
        files=listed,
        suppressed=disclosure.SUPPRESSED,
        disclosure_rules=network["disclosure"].get("rules", []),
        safe_codes={s["code"]: safe(s["code"]) for s in network["sites"]},
        variation_words=VARIATION_WORDS,
        generated=contents.generated_at.strftime("%d %B %Y, %H:%M UTC"),
    )
