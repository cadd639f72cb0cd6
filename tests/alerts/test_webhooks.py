"""Standard Webhooks signing, event payloads and the retry schedule."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.lifecycle import Severity
from alerts.webhooks import (
    DEFAULT_RETRY_POLICY,
    AlertEventData,
    EventType,
    RetryPolicy,
    WebhookSecret,
    WebhookVerificationError,
    build_event,
    next_attempt_at,
    sign,
    signed_headers,
    verify,
)
from tests.hypothesis_profiles import scaled

# The published test vector of the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

RAW_SECRET = "a-team-secret-of-decent-length"
SENT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
BODY = b'{"data":{},"id":"evt_1","type":"alert.raised"}'


def independent_signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_matches_the_specification_test_vector() -> None:
    assert sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    key = base64.b64decode(SPEC_SECRET.removeprefix("whsec_"))
    assert independent_signature(key, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_raw_secret_signs_with_its_utf8_bytes() -> None:
    expected = independent_signature(RAW_SECRET.encode(), "evt_1", 1763629200, BODY)
    assert sign(RAW_SECRET, "evt_1", 1763629200, BODY) == expected
    assert sign(WebhookSecret.parse(RAW_SECRET), "evt_1", 1763629200, BODY) == expected


def test_signed_headers() -> None:
    headers = signed_headers(RAW_SECRET, "evt_1", SENT, BODY)
    timestamp = int(SENT.timestamp())
    assert headers == {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": independent_signature(RAW_SECRET.encode(), "evt_1", timestamp, BODY),
    }


def test_verify_accepts_the_spec_vector_within_tolerance() -> None:
    headers = {
        "Webhook-Id": SPEC_ID,
        "Webhook-Timestamp": str(SPEC_TIMESTAMP),
        "Webhook-Signature": SPEC_SIGNATURE,
    }
    now = datetime.fromtimestamp(SPEC_TIMESTAMP, UTC) + timedelta(minutes=4)
    assert verify(SPEC_SECRET, headers, SPEC_BODY, now) == SPEC_ID


def test_verify_accepts_any_of_several_signatures() -> None:
    headers = signed_headers(RAW_SECRET, "evt_1", SENT, BODY)
    old = sign("an-old-rotated-out-secret", "evt_1", int(SENT.timestamp()), BODY)
    headers["webhook-signature"] = f"v2,xyz {old} {headers['webhook-signature']}"
    assert verify(RAW_SECRET, headers, BODY, SENT) == "evt_1"


def _tampered(change: str) -> tuple[dict[str, str], bytes, datetime]:
    headers = signed_headers(RAW_SECRET, "evt_1", SENT, BODY)
    body, now = BODY, SENT
    if change == "body":
        body = BODY.replace(b"raised", b"escalated")
    elif change == "id":
        headers["webhook-id"] = "evt_2"
    elif change == "timestamp":
        headers["webhook-timestamp"] = str(int(SENT.timestamp()) + 1)
    elif change == "old":
        now = SENT + timedelta(minutes=5, seconds=1)
    elif change == "future":
        now = SENT - timedelta(minutes=5, seconds=1)
    elif change == "bad timestamp":
        headers["webhook-timestamp"] = "1763629200.5"
    elif change == "unicode digits":
        headers["webhook-timestamp"] = "١٧٦٣٦٢٩٢٠٠"
    elif change == "no signature":
        del headers["webhook-signature"]
    elif change == "no id":
        headers["webhook-id"] = ""
    elif change == "other version":
        headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v1a,")
    elif change == "other secret":
        headers["webhook-signature"] = sign(
            "a-different-secret-entirely", "evt_1", int(SENT.timestamp()), BODY
        )
    return headers, body, now


@pytest.mark.parametrize(
    "change",
    [
        "body",
        "id",
        "timestamp",
        "old",
        "future",
        "bad timestamp",
        "unicode digits",
        "no signature",
        "no id",
        "other version",
        "other secret",
    ],
)
def test_verify_rejects(change: str) -> None:
    headers, body, now = _tampered(change)
    with pytest.raises(WebhookVerificationError):
        verify(RAW_SECRET, headers, body, now)


def test_verify_tolerance_edges() -> None:
    headers = signed_headers(RAW_SECRET, "evt_1", SENT, BODY)
    assert verify(RAW_SECRET, headers, BODY, SENT + timedelta(minutes=5))
    assert verify(RAW_SECRET, headers, BODY, SENT - timedelta(minutes=5))
    with pytest.raises(WebhookVerificationError):
        verify(
            RAW_SECRET, headers, BODY, SENT + timedelta(seconds=31), tolerance=timedelta(seconds=30)
        )


@pytest.mark.parametrize(
    "secret",
    ["", "short", "whsec_c2hvcnQ=", "whsec_not base64!", "whsec_"],
)
def test_weak_or_malformed_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError):
        WebhookSecret.parse(secret)


def test_secret_stays_out_of_repr() -> None:
    assert RAW_SECRET not in repr(WebhookSecret.parse(RAW_SECRET))


def test_sign_needs_an_id_and_an_aware_time() -> None:
    with pytest.raises(ValueError):
        sign(RAW_SECRET, "", 1, BODY)
    with pytest.raises(ValueError):
        signed_headers(RAW_SECRET, "evt", datetime(2026, 1, 1), BODY)


DATA = AlertEventData(
    alert_id="6b0c1f4e-0000-4000-8000-000000000001",
    patient_id="6b0c1f4e-0000-4000-8000-0000000000aa",
    team_id="team-7",
    rule_id="spo2_low",
    pathway_version="2026.1",
    severity=Severity.RED,
    due_at=datetime(2026, 11, 20, 14, 0, tzinfo=UTC),
)


def test_build_event_is_compact_sorted_and_stable() -> None:
    body = build_event("evt_1", EventType.ALERT_RAISED, SENT, DATA)
    assert body == (
        b'{"data":{"alert_id":"6b0c1f4e-0000-4000-8000-000000000001",'
        b'"due_at":"2026-11-20T14:00:00+00:00",'
        b'"pathway_version":"2026.1",'
        b'"patient_id":"6b0c1f4e-0000-4000-8000-0000000000aa",'
        b'"rule_id":"spo2_low","severity":"red","team_id":"team-7"},'
        b'"id":"evt_1","timestamp":"2026-11-20T09:00:00+00:00","type":"alert.raised"}'
    )
    assert build_event("evt_1", EventType.ALERT_RAISED, SENT, DATA) == body


def test_severity_raised_event_carries_the_previous_severity() -> None:
    london_time = datetime.fromisoformat("2026-06-01T10:00:00+01:00")
    data = AlertEventData(
        alert_id="a1",
        patient_id="p1",
        team_id="t1",
        rule_id="hr",
        pathway_version="2026.1",
        severity=Severity.RED,
        previous_severity=Severity.AMBER,
        due_at=london_time,
    )
    document = json.loads(build_event("evt_2", EventType.ALERT_SEVERITY_RAISED, london_time, data))
    assert document["type"] == "alert.severity_raised"
    assert document["timestamp"] == "2026-06-01T09:00:00+00:00"
    assert document["data"]["previous_severity"] == "amber"
    assert document["data"]["due_at"] == "2026-06-01T09:00:00+00:00"


def test_a_red_alert_raised_out_of_hours_says_what_was_done_with_it() -> None:
    data = replace(DATA, out_of_hours_handling="out_of_hours_webhook")
    document = json.loads(build_event("evt_4", EventType.ALERT_RAISED, SENT, data))
    assert document["data"]["out_of_hours_handling"] == "out_of_hours_webhook"
    plain = json.loads(build_event("evt_5", EventType.ALERT_RAISED, SENT, DATA))
    assert "out_of_hours_handling" not in plain["data"]


def test_payload_has_only_the_allowed_fields() -> None:
    document = json.loads(build_event("evt_3", EventType.ALERT_ESCALATED, SENT, DATA))
    assert set(document) == {"id", "type", "timestamp", "data"}
    assert set(document["data"]) <= {
        "alert_id",
        "patient_id",
        "team_id",
        "rule_id",
        "pathway_version",
        "severity",
        "previous_severity",
        "due_at",
    }


@pytest.mark.parametrize("nhs_number", ["9434765919", "943 476 5919", "943-476-5919"])
@pytest.mark.parametrize("field", ["alert_id", "patient_id", "team_id"])
def test_an_nhs_number_in_place_of_an_id_is_refused(field: str, nhs_number: str) -> None:
    fields = {
        "alert_id": "a1",
        "patient_id": "p1",
        "team_id": "t1",
        "rule_id": "hr",
        "pathway_version": "2026.1",
        "severity": Severity.RED,
        "due_at": SENT,
        field: nhs_number,
    }
    with pytest.raises(ValueError, match="NHS number"):
        AlertEventData(**fields)  # type: ignore[arg-type]


def test_naive_times_in_events_are_refused() -> None:
    naive = datetime(2026, 11, 20, 9, 0)
    with pytest.raises(ValueError):
        build_event("evt", EventType.ALERT_RAISED, naive, DATA)
    with pytest.raises(ValueError):
        AlertEventData(
            alert_id="a",
            patient_id="p",
            team_id="t",
            rule_id="r",
            pathway_version="v",
            severity=Severity.AMBER,
            due_at=naive,
        )


def test_event_type_wire_values() -> None:
    assert [e.value for e in EventType] == [
        "alert.raised",
        "alert.severity_raised",
        "alert.escalated",
    ]


def simulate(rng: random.Random, policy: RetryPolicy = DEFAULT_RETRY_POLICY) -> list[datetime]:
    """Attempt times of a delivery whose receiver never accepts."""
    first = now = SENT
    attempts = [first]
    while True:
        after = next_attempt_at(len(attempts), first, now, rng, policy)
        if after is None:
            return attempts
        now = after
        attempts.append(now)


class ScriptedRandom(random.Random):
    """Jitter drawn from Hypothesis: fractions of the range, repeated, extremes included."""

    def __init__(self, fractions: list[float]) -> None:
        super().__init__(0)
        self._fractions = fractions
        self._draws = 0

    def uniform(self, a: float, b: float) -> float:
        fraction = self._fractions[self._draws % len(self._fractions)]
        self._draws += 1
        return a + (b - a) * fraction


jitter_fractions = st.lists(
    st.floats(0.0, 1.0) | st.sampled_from([0.0, 1.0]), min_size=1, max_size=20
)


@settings(max_examples=scaled(100), deadline=None)
@given(jitter_fractions)
def test_backoff_keeps_trying_for_a_day_within_jitter_bounds(fractions: list[float]) -> None:
    # A 0.5 in every cycle keeps a run of zero draws (one-second retries) from making the
    # simulation take 86,400 steps; zeros themselves are still drawn.
    attempts = simulate(ScriptedRandom([*fractions, 0.5]))
    policy = DEFAULT_RETRY_POLICY
    assert attempts[-1] - attempts[0] >= timedelta(hours=24)
    # Gives up at the first failure after the window, so never much beyond it.
    assert attempts[-1] - attempts[0] < timedelta(hours=24) + policy.max_delay
    for number, (before, after) in enumerate(itertools.pairwise(attempts), start=1):
        delay = after - before
        assert policy.min_delay <= delay <= max(policy.min_delay, policy.step(number))
        assert delay <= timedelta(hours=1)


@given(st.integers(1, 10_000), jitter_fractions)
def test_each_delay_is_within_its_step(attempt: int, fractions: list[float]) -> None:
    after = next_attempt_at(attempt, SENT, SENT, ScriptedRandom(fractions))
    assert after is not None
    assert SENT + timedelta(seconds=1) <= after <= SENT + DEFAULT_RETRY_POLICY.step(attempt)


def test_backoff_steps_grow_exponentially_to_the_cap() -> None:
    steps = [DEFAULT_RETRY_POLICY.step(n) for n in range(1, 10)]
    assert steps[:5] == [timedelta(seconds=30 * 2**k) for k in range(5)]
    assert steps[-1] == timedelta(hours=1)
    assert DEFAULT_RETRY_POLICY.step(10**9) == timedelta(hours=1)


def test_gives_up_only_after_the_window() -> None:
    rng = random.Random(1)
    just_before = SENT + timedelta(hours=24) - timedelta(microseconds=1)
    assert next_attempt_at(60, SENT, just_before, rng) is not None
    assert next_attempt_at(60, SENT, SENT + timedelta(hours=24), rng) is None


def test_zero_jitter_is_floored() -> None:
    assert next_attempt_at(1, SENT, SENT, ScriptedRandom([0.0])) == SENT + timedelta(seconds=1)


def test_real_random_jitter_stays_in_bounds() -> None:
    rng = random.Random(20261120)
    delays = [next_attempt_at(3, SENT, SENT, rng) for _ in range(500)]
    assert all(d is not None and SENT < d <= SENT + timedelta(minutes=2) for d in delays)
    assert len(set(delays)) > 400, "jitter spreads retries out"


def test_backoff_arguments_are_checked() -> None:
    rng = random.Random(1)
    with pytest.raises(ValueError):
        next_attempt_at(0, SENT, SENT, rng)
    with pytest.raises(ValueError):
        next_attempt_at(1, datetime(2026, 1, 1), SENT, rng)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_delay": timedelta(0)},
        {"base_delay": timedelta(hours=2)},
        {"min_delay": timedelta(minutes=1), "base_delay": timedelta(seconds=30)},
        {"retry_for": timedelta(0)},
    ],
)
def test_retry_policy_validation(kwargs: dict[str, timedelta]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_a_longer_window_is_configurable() -> None:
    policy = RetryPolicy(retry_for=timedelta(hours=72))
    attempts = simulate(random.Random(7), policy)
    assert attempts[-1] - attempts[0] >= timedelta(hours=72)
