"""Decide's Arrow and hash-index paths against the pandas and numpy formulations they replaced: the households'
group-by and merges, the EUR texts, and the VID membership look-ups must give exactly the same frames, types and
masks on awkward inputs (codes missing, reviewed addresses without members, a register listing a code twice,
amounts near the int64 limits)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.decide.households import eur_texts, household_codes, with_addresses
from pipeline.decide.income import ValueSet, superseded_mask

CODES = st.sampled_from(["101000001", "101000002", "105000001", "105000002", "199999999", "ā1", "10", "9"])
MAYBE_CODES = st.one_of(st.none(), CODES)
INT64 = st.integers(min_value=-(2**62), max_value=2**62)


def text(values: list[str | None]) -> pd.Series:
    """A text column as the staged tables give it (pandas' Arrow-backed `str`)."""
    return pa.array(values, type=pa.string()).to_pandas()


@settings(max_examples=200, deadline=None)
@given(persons=st.lists(st.tuples(MAYBE_CODES, st.integers(0, 10**15)), max_size=30),
       reviewed=st.sets(CODES, max_size=4))
def test_household_codes_group_as_pandas_does(persons, reviewed):
    codes = text([code for code, _ in persons])
    scaled = np.array([amount for _, amount in persons], dtype=np.int64)
    review = text(sorted(reviewed))
    households, rows = household_codes(codes, review)

    grouped = pd.DataFrame({"aris_code": codes, "scaled": scaled}).groupby("aris_code", sort=True)
    expected = sorted(set(grouped.groups) | reviewed)
    assert households.to_pylist() == expected
    members = np.bincount(rows[rows >= 0], minlength=len(expected))
    totals = np.zeros(len(expected), dtype=np.int64)
    np.add.at(totals, rows[rows >= 0], scaled[rows >= 0])
    for at, code in enumerate(expected):
        assert members[at] == (grouped.size().get(code, 0))
        assert totals[at] == (grouped["scaled"].sum().get(code, 0))
    assert [code is None for code, _ in persons] == (rows < 0).tolist()


@settings(max_examples=200, deadline=None)
@given(wanted=st.lists(CODES, unique=True, max_size=8),
       register=st.lists(st.tuples(MAYBE_CODES, st.one_of(st.none(), st.text(max_size=3)), st.integers(0, 99)),
                         max_size=10))
def test_with_addresses_is_the_left_merge(wanted, register):
    households = pd.DataFrame({"aris_code": text(sorted(wanted)), "members": np.arange(len(wanted), dtype=np.int64)})
    addresses = pd.DataFrame({"aris_code": text([code for code, _, _ in register]),
                              "address": text([address for _, address, _ in register]),
                              "municipality_code": pd.array([address for _, address, _ in register], dtype="string"),
                              "type_code": np.array([kind for _, _, kind in register], dtype=np.int16)})
    expected = households.merge(addresses, on="aris_code", how="left")
    pd.testing.assert_frame_equal(with_addresses(households, addresses), expected)


def test_with_addresses_keeps_the_registers_types_when_every_code_is_found_and_when_none_is():
    households = pd.DataFrame({"aris_code": text(["1", "2"]), "members": np.array([1, 2])})
    addresses = pd.DataFrame({"aris_code": text(["2", "1", "3"]), "address": text(["b", "a", None]),
                              "type_code": np.array([108, 109, 108], dtype=np.int16)})
    for register in (addresses, addresses.iloc[2:]):
        pd.testing.assert_frame_equal(with_addresses(households, register),
                                      households.merge(register, on="aris_code", how="left"))


@settings(max_examples=300, deadline=None)
@given(st.lists(INT64, max_size=20))
def test_eur_texts_from_int64_are_the_python_int_route(cents):
    as_int64 = eur_texts(np.array(cents, dtype=np.int64))
    as_python = eur_texts(np.array(cents, dtype=object))
    assert as_int64.type == as_python.type == pa.string()
    assert as_int64.to_pylist() == as_python.to_pylist()
    assert all(text == f"{c // 100}.{c % 100:02d}" for text, c in zip(as_int64.to_pylist(), cents, strict=True))


def test_eur_texts_of_big_python_ints_and_of_nothing():
    big = 2**70 + 5
    assert eur_texts(np.array([big, 0, 100], dtype=object)).to_pylist() == [
        f"{big // 100}.{big % 100:02d}", "0.00", "1.00"]
    assert eur_texts(np.empty(0, dtype=np.int64)).to_pylist() == []


@settings(max_examples=200, deadline=None)
@given(st.lists(INT64, max_size=30), st.lists(INT64, max_size=10))
def test_value_set_is_isin(values, members):
    probe = np.array(values, dtype=np.int64)
    assert ValueSet(np.array(members, dtype=np.int64)).contains(probe).tolist() == np.isin(probe, members).tolist()
    chunked = pa.chunked_array([probe[:3], probe[3:]], type=pa.int64())
    assert ValueSet(np.array(members, dtype=np.int64)).contains(chunked).tolist() == np.isin(probe, members).tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 5000), max_size=40), st.lists(st.integers(1, 5000), unique=True, max_size=10))
def test_superseded_mask_marks_exactly_the_superseded_records(records, superseded):
    mask = superseded_mask(np.array(records, dtype=np.int64), np.array(superseded, dtype=np.int64))
    assert mask.tolist() == [record in set(superseded) for record in records]
