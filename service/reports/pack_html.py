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

from service.charts.labels import month_name, shown
from service.reports import disclosure
from service.reports.spc_view import VARIATION_WORDS

if TYPE_CHECKING:
    from service.reports.pack import PackContents

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
