"""``changes.merge_patch_to``: the patch a settings form sends is the one that turns the stored
value into the form's, so the page goes through the API's merge patch and lands exactly there."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from service.changes import merge_patch, merge_patch_to

# Settings as JSON without nulls (null in a setting means "the default", so it is not stored).
_leaf = st.one_of(
    st.booleans(), st.integers(-5, 5), st.text(max_size=3), st.lists(st.integers(0, 6))
)
_values = st.recursive(
    _leaf, lambda inner: st.dictionaries(st.sampled_from("abcd"), inner, max_size=4), max_leaves=12
)
_settings = st.dictionaries(st.sampled_from("abcd"), _values, max_size=4)


@given(_settings, _settings)
@example({"a": {"b": 1, "c": 2}}, {"a": {"b": 1}})
@example({"a": {"b": 1}}, {"a": 3})
@example({"a": 3}, {"a": {"b": 1}})
def test_the_patch_turns_the_stored_value_into_the_forms(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    assert merge_patch(before, merge_patch_to(before, after)) == after


def test_only_what_changed_is_sent_and_a_removed_member_is_null() -> None:
    before = {"opens_at": "08:00", "thresholds": {"a": 1, "b": 2}, "keep": [1, 2]}
    after = {"opens_at": "09:00", "thresholds": {"a": 1}, "keep": [1, 2]}
    assert merge_patch_to(before, after) == {"opens_at": "09:00", "thresholds": {"b": None}}
    assert merge_patch_to(before, before) == {}
    assert merge_patch_to(before, {}) == {"opens_at": None, "thresholds": None, "keep": None}
