"""Name tokens, their keyed hashes and sealed display names: what the portal's name search and display rely on."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.quality.pseudonym import (
    fold,
    fold_series,
    name_keys,
    name_keys_column,
    name_tokens,
    person_key,
    person_keys,
    token_key,
)
from pipeline.quality.sealing import NONCE_BYTES, Sealer


def test_name_tokens_ignore_case_diacritics_and_punctuation():
    assert name_tokens("Bērziņš") == ["berzins"]
    assert name_tokens("ĢĒRMANIS-Ķēniņa  Jānis") == ["germanis", "kenina", "janis"]
    assert name_tokens("Žagare\x00'; DROP") == ["zagare", "drop"]
    assert name_tokens("😀 ٠١") == []


def test_name_keys_are_order_free_and_keyed():
    assert name_keys(b"k", "Jānis", "Bērziņš") == name_keys(b"k", "berzins", "JANIS")
    assert name_keys(b"k", "Jānis", "Bērziņš") != name_keys(b"other", "Jānis", "Bērziņš")
    assert name_keys(b"k", "Anna", "Anna").split() == [token_key(b"k", "anna")]
    assert len(token_key(b"k", "berzins")) == 16 and "berzins" not in name_keys(b"k", "Bērziņš")


def test_fold_gives_the_address_prefix_form():
    assert fold('"Mežmaļi", Vecates pag., LV-1004') == "mezmali vecates pag lv 1004"
    assert fold("%_\\") == ""


def test_sealed_names_open_only_with_their_key_and_differ_each_time():
    sealer = Sealer(b"data key")
    first, second = sealer.seal("Raivis Bērziņš"), sealer.seal("Raivis Bērziņš")
    assert first != second and "Raivis" not in first
    assert sealer.open(first) == sealer.open(second) == "Raivis Bērziņš"
    assert Sealer(b"another key").open(first) is None
    assert sealer.open("not base64!") is None and sealer.open(first[:-4] + "AAAA") is None


def test_the_column_fold_matches_the_query_fold():
    texts = ['"Mežmaļi", Vecates pag., LV-1004', "Bjørn Æsir Straße", "  ĶĒNIŅA -- iela 5 ", "", "٠١ 😀", "a\x00b"]
    assert fold_series(pd.Series(texts)).tolist() == [fold(text) for text in texts]
    assert fold_series(pd.Series([None], dtype="object")).tolist() == [""]


def test_opaque_household_ids_never_start_like_a_spreadsheet_formula():
    """The auditors' CSV export neutralises a cell starting with `-`; an id must read the same there as in a URL."""
    import pandas as pd

    from pipeline.csvio import render_csv
    from pipeline.store.portal_index import new_household_ids

    ids = [token for _, token in new_household_ids(set(), pd.Series([f"{100000000 + i}" for i in range(2000)]))]
    assert len(set(ids)) == 2000
    assert all(render_csv(["id"], [[token]]).decode("utf-8").splitlines()[1] == token for token in ids)


def test_names_sealed_in_a_batch_open_one_by_one_each_under_its_own_nonce():
    sealer = Sealer(b"data key")
    plains = ["Raivis Bērziņš", "Raivis Bērziņš", "", "Ģirts Ķēniņš-Liepa"]
    sealed = sealer.seal_many([plain.encode("utf-8") for plain in plains])
    assert [sealer.open(value) for value in sealed] == plains
    nonces = {base64.b64decode(value)[:NONCE_BYTES] for value in sealed}
    assert len(nonces) == len(plains) and sealed[0] != sealed[1]
    assert sealer.seal_many([]) == []


_NAMES = st.one_of(st.sampled_from(["Jānis", "Anna", "Bērziņš", "Bērziņa-Liepa", "Ozoliņš", "JĀNIS", "", "  ",
                                    "Anna Marija", "😀", "O'Brien"]), st.text(max_size=12))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_NAMES, _NAMES), max_size=30), st.binary(min_size=1, max_size=80))
def test_the_column_name_keys_are_the_scalar_name_keys(names, secret):
    given_names, surnames = (pa.array([pair[i] for pair in names], type=pa.string()) for i in (0, 1))
    column = name_keys_column(secret, given_names, surnames)
    assert column.to_pylist() == [name_keys(secret, first, last) for first, last in names]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", min_size=11, max_size=11), max_size=20),
       st.binary(min_size=1, max_size=100))
def test_person_keys_are_hmac_sha256_of_the_code(codes, secret):
    """The keyed-state shortcut must give RFC 2104 HMAC for any key length (a key over 64 bytes is hashed first)."""
    expected = [hmac.new(secret, code.encode("ascii"), hashlib.sha256).hexdigest()[:16] for code in codes]
    assert person_keys(secret, codes) == expected == [person_key(secret, code) for code in codes]
