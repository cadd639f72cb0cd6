"""What to tell the patient after their readings, from the most urgent finding."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pathway.config import PathwayConfig
from pathway.model import Advice, Finding, Level

# Findings whose answer is "call 999 now" at any hour: no plan may rest on the team calling later.
EMERGENCY_RULES = frozenset(
    {"red.emergency_symptoms", "emergency.spo2", "emergency.systolic", "emergency.pulse"}
)


def advise(
    config: PathwayConfig, findings: Iterable[Finding], *, held: Sequence[str] = ()
) -> Advice:
    """The most urgent finding decides; with none, a reading waiting for its confirmation
    asks for it (`held`: advice codes; a re-measure now comes before questions tomorrow)."""
    levels = set()
    code = "green"
    for finding in findings:
        if finding.rule_id in EMERGENCY_RULES:
            code = "emergency"
        levels.add(finding.level)
    if code != "emergency":
        if Level.RED in levels:
            code = "red_same_day"
        elif Level.AMBER in levels:
            code = "amber_next_day"
        elif "remeasure" in held:
            code = "remeasure"
        elif held:
            code = held[0]
    text = config.advice[code]
    return Advice(level=text.level, code=code, text=text.text)


# Advice codes that promise a call from the team, and so must say when it will come.
TEAM_CALLS = frozenset({"red_same_day", "amber_next_day"})
NHS_111 = "NHS 111"
# Longer than a red alert's response time inside working hours: the team is not there now.
LONG_WAIT = timedelta(hours=4)


def when_the_team_calls(
    advice: Advice, due: datetime, now: datetime, zone: ZoneInfo, out_of_hours: str = NHS_111
) -> Advice:
    """Advice that names when the team will call, from the alert's due time.

    The same response policy sets the alert's ``due`` and this text, so the patient is never told
    "today" for a call due on Monday. Until the call, a patient who feels worse calls NHS 111 (or
    the site's out-of-hours number), and 999 when very unwell; red advice outside the team's
    hours says both.
    """
    if advice.code not in TEAM_CALLS:
        return advice
    local_now, local_due = now.astimezone(zone), due.astimezone(zone)
    by = f"by {local_due:%H:%M}"
    if local_due.date() == local_now.date():
        when = f"today, {by}"
    elif local_due.date() == local_now.date() + timedelta(days=1):
        when = f"tomorrow, {by}"
    else:
        when = f"on {local_due:%A} {local_due.day} {local_due:%B}, {by}"
    long_wait = due - now > LONG_WAIT or local_due.date() != local_now.date()
    if advice.code == "red_same_day" and not long_wait:
        text = f"Your heart failure team will call you {when}. If you feel worse, call 999."
    elif advice.code == "red_same_day":
        text = (
            f"Your heart failure team will call you {when}. If you feel worse before then, "
            f"call {out_of_hours} now. If you are very unwell, call 999."
        )
    else:
        text = (
            f"Your heart failure team will call you {when}. "
            f"If you feel worse before then, call {out_of_hours}."
        )
    return Advice(level=advice.level, code=advice.code, text=text)
