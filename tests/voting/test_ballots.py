"""Canonical ballot text and receipt hashes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civic.voting.ballots import (
    MalformedChoices,
    ballot_lookup,
    chain,
    format_choices,
    new_receipt,
    normalise_receipt,
    parse_choices,
    receipt_check,
)


@given(st.dictionaries(st.integers(1, 10**9), st.integers(1, 1000)))
def test_choices_round_trip(choices):
    assert parse_choices(format_choices(choices)) == choices


def test_canonical_order_and_points():
    assert format_choices({15: 1, 3: 1, 9: 4}) == "3,9:4,15"
    assert parse_choices("") == {}


@pytest.mark.parametrize("text", ["a", "1,,2", "1:0", "1,1", "1:x", "-", "1:-2"])
def test_malformed_choices_are_refused(text):
    with pytest.raises(MalformedChoices):
        parse_choices(text)


def test_receipts_are_random_and_typed_back_loosely():
    a, b = new_receipt(), new_receipt()
    assert a != b and len(a.replace("-", "")) == 26
    assert normalise_receipt(a.lower().replace("-", " ")) == a
    assert normalise_receipt(a.replace("1", "l")) == a
    assert normalise_receipt("not a receipt") is None
    assert normalise_receipt(a[:-1]) is None


def test_hashes_separate_the_two_links():
    r = new_receipt()
    assert ballot_lookup(r) != receipt_check(1, r)
    assert receipt_check(1, r) != receipt_check(2, r)
    assert len(ballot_lookup(r)) == 64


def test_chain_depends_on_every_entry_and_order():
    entries = [("a" * 64, "1,2"), ("b" * 64, "3")]
    links = chain(entries)
    assert len(links) == 2
    assert chain(entries[::-1])[-1] != links[-1]
    assert chain([("a" * 64, "1,2"), ("b" * 64, "4")])[-1] != links[-1]
    assert chain(entries[:1]) == links[:1]
