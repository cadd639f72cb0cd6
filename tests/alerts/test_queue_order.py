"""Queue order (red first, then oldest) and the keyset-pagination cursor."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.lifecycle import Severity
from alerts.queue_order import (
    InvalidCursor,
    QueueKey,
    decode_cursor,
    encode_cursor,
    queue_sort_key,
)

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_red_first_then_oldest_then_id() -> None:
    rows = [
        (Severity.AMBER, T0 - timedelta(days=2), "a-old"),
        (Severity.RED, T0, "r-new"),
        (Severity.AMBER, T0, "a-new"),
        (Severity.RED, T0 - timedelta(hours=3), "r-old"),
        (Severity.RED, T0, "r-new-2"),
    ]
    ordered = sorted(rows, key=lambda r: queue_sort_key(*r))
    assert [r[2] for r in ordered] == ["r-old", "r-new", "r-new-2", "a-old", "a-new"]


def test_raised_at_is_compared_as_an_instant() -> None:
    bst = timezone(timedelta(hours=1))
    earlier_in_bst = queue_sort_key(Severity.RED, datetime(2026, 6, 1, 9, 30, tzinfo=bst), "b")
    later_in_utc = queue_sort_key(Severity.RED, datetime(2026, 6, 1, 9, 0, tzinfo=UTC), "a")
    assert earlier_in_bst < later_in_utc
    assert earlier_in_bst.raised_at.tzinfo is UTC


def test_keys_only_compare_with_keys() -> None:
    key = queue_sort_key(Severity.RED, T0, "a")
    with pytest.raises(TypeError):
        _ = key < "a"
    assert key <= key
    assert key >= key


def test_naive_raised_at_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        queue_sort_key(Severity.RED, datetime(2026, 1, 1), "a")


keys = st.builds(
    queue_sort_key,
    st.sampled_from(list(Severity)),
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))]
        ),
    ),
    st.text(max_size=40),
)


@given(keys)
def test_cursor_round_trip(key: QueueKey) -> None:
    cursor = encode_cursor(key)
    assert decode_cursor(cursor) == key
    assert cursor.isascii()
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@given(keys, keys)
def test_cursor_order_is_key_order(a: QueueKey, b: QueueKey) -> None:
    assert (decode_cursor(encode_cursor(a)) < decode_cursor(encode_cursor(b))) == (a < b)


@given(st.text(max_size=200))
def test_garbage_text_is_refused_or_is_a_real_cursor(text: str) -> None:
    try:
        key = decode_cursor(text)
    except InvalidCursor:
        return
    assert encode_cursor(key) == text


@given(st.binary(max_size=200))
def test_garbage_bytes_behind_valid_base64_are_refused(raw: bytes) -> None:
    cursor = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def _encode(document: object) -> str:
    raw = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


VALID = {"i": "a1", "r": 2, "t": "2026-11-20T09:00:00+00:00", "v": 1}


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!!",
        "a",
        "é",
        "x" * 2000,
        encode_cursor(queue_sort_key(Severity.RED, T0, "a1")) + "==",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _encode([1, 2, 3]),
        _encode("cursor"),
        _encode({**VALID, "v": 2}),
        _encode({**VALID, "v": True}),
        _encode({**VALID, "r": 3}),
        _encode({**VALID, "r": True}),
        _encode({**VALID, "r": "2"}),
        _encode({**VALID, "t": "yesterday"}),
        _encode({**VALID, "t": "2026-11-20T09:00:00"}),
        _encode({**VALID, "t": 1763629200}),
        _encode({**VALID, "i": 7}),
        _encode({**VALID, "t": "2026-11-20T10:00:00+01:00"}),
        _encode({**VALID, "extra": 1}),
        _encode({k: v for k, v in VALID.items() if k != "i"}),
        base64.urlsafe_b64encode(b"[" * 700).decode(),
    ],
)
def test_malformed_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)


def test_the_canonical_spelling_decodes() -> None:
    assert decode_cursor(_encode(VALID)) == QueueKey(2, T0, "a1")
