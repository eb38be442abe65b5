"""The pure parts of the contact filters: search keys and the range a prefix covers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from contactlists.contacts.search import prefix_bounds, search_key

# Characters near the edges that matter: the last code point, either side of the surrogates.
EDGES = st.sampled_from(["a", "b", "\ud7ff", "\ue000", "\U0010ffff", "\U0010fffe", "ß", "%"])
TEXT = st.lists(EDGES | st.characters(exclude_categories=["Cs"]), max_size=6).map("".join)


@given(key=TEXT, prefix=TEXT.filter(bool))
def test_a_key_is_in_the_prefix_range_exactly_when_it_starts_with_the_prefix(
    key: str, prefix: str
) -> None:
    low, high = prefix_bounds(prefix)
    # Python compares strings by code point, as both databases compare the keys.
    inside = low <= key and (high is None or key < high)
    assert inside == key.startswith(prefix)


def test_the_bounds_skip_the_surrogates_and_stop_at_the_last_code_point() -> None:
    assert prefix_bounds("ab") == ("ab", "ac")
    assert prefix_bounds("a\ud7ff") == ("a\ud7ff", "a\ue000")
    assert prefix_bounds("a\U0010ffff") == ("a\U0010ffff", "b")
    assert prefix_bounds("\U0010ffff\U0010ffff") == ("\U0010ffff\U0010ffff", None)


def test_keys_are_case_folded() -> None:
    assert [search_key(v) for v in ("Ann", "STRAẞE", "ǅ", None)] == ["ann", "strasse", "ǆ", None]
