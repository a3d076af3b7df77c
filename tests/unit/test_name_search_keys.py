"""Name tokens, their keyed hashes and sealed display names: what the portal's name search and display rely on."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.quality import sealing
from pipeline.quality.pseudonym import (
    fold,
    fold_series,
    name_keys,
    name_keys_column,
    name_tokens,
    person_key,
    person_keys_column,
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
    from pipeline.csvio import render_csv
    from pipeline.store.portal_index import new_household_ids

    ids = new_household_ids(set(), pa.array([f"{100000000 + i}" for i in range(2000)]))["household_id"].to_pylist()
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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="0123456789", min_size=11, max_size=11)
                | st.text(alphabet=st.characters(max_codepoint=127), max_size=70), max_size=20),
       st.binary(max_size=130))
def test_person_keys_are_hmac_sha256_of_the_code(codes, secret):
    """The column's own SHA-256 states must give RFC 2104 HMAC for any key length (a key over 64 bytes is hashed
    first, a shorter one zero-padded) and any ASCII message length (one or more blocks)."""
    expected = [hmac.new(secret, code.encode("ascii"), hashlib.sha256).hexdigest()[:16] for code in codes]
    column = person_keys_column(secret, pa.array(codes, pa.string()))
    assert column.type == pa.string() and column.null_count == 0
    assert column.to_pylist() == expected == [person_key(secret, code) for code in codes]
    assert person_keys_column(secret, pa.array(codes, pa.string()).slice(1)).to_pylist() == expected[1:]


@pytest.mark.parametrize("codes", [["01019010001", None], ["0101901000Ā"]])
def test_person_keys_refuse_a_missing_or_non_ascii_code_as_the_scalar_key_does(codes):
    with pytest.raises(ValueError):
        person_keys_column(b"k", pa.array(codes, pa.string()))


def _sealed_one_by_one(sealer: Sealer, randomness: bytes, plains: list[bytes]) -> list[str]:
    """The sealing as it was written before `seal_column`: one value at a time, its nonce cut from `randomness`."""
    sealed = []
    for index, plain in enumerate(plains):
        nonce = randomness[index * NONCE_BYTES:(index + 1) * NONCE_BYTES]
        cipher = sealer._aead.encrypt(nonce, plain, b"eikis-display-name-v1")
        sealed.append(binascii.b2a_base64(nonce + cipher, newline=False).decode("ascii"))
    return sealed


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=40).map(lambda text: text.encode("utf-8")) | st.binary(max_size=70), max_size=25),
       st.binary(min_size=1, max_size=40))
def test_the_column_sealing_is_the_value_by_value_sealing(plains, key):
    """Same nonces in, same bytes out: the column path encrypts and encodes exactly as one value at a time did."""
    sealer = Sealer(key)
    randomness = bytes(range(256)) * (1 + NONCE_BYTES * len(plains) // 256)
    real_urandom = sealing.os.urandom
    sealing.os.urandom = lambda size: randomness[:size]  # hypothesis runs many examples per fixture: no monkeypatch
    try:
        column = sealer.seal_column(pa.array(plains, pa.binary()))
        listed = sealer.seal_many(plains)
    finally:
        sealing.os.urandom = real_urandom
    assert column.type == pa.string()
    assert column.to_pylist() == listed == _sealed_one_by_one(sealer, randomness, plains)
    assert [sealer.open(value) for value in column.to_pylist()] == [
        plain.decode("utf-8", errors="strict") if _is_utf8(plain) else None for plain in plains]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_the_column_sealing_refuses_a_missing_value():
    with pytest.raises(ValueError):
        Sealer(b"k").seal_column(pa.array([b"a", None], pa.binary()))


def test_token_rows_are_each_token_and_pair_of_a_person_once_in_key_order():
    from itertools import combinations

    from pipeline.quality.pseudonym import pair_key
    from pipeline.store.portal_index import token_rows

    staged = pa.table({"person_key": ["p0", "p1", "p2", "p3", "p4", "p5"],
                       "name_keys": ["c", "x y z", "", "b a", "q q", "a"]})
    rows = token_rows(staged).to_pylist()
    expected = set()
    for person, keys in zip(staged["person_key"].to_pylist(), staged["name_keys"].to_pylist(), strict=True):
        tokens = {key for key in keys.split(" ") if key}
        expected |= {(token, person) for token in tokens}
        expected |= {(pair_key(a, b), person) for a, b in combinations(sorted(tokens), 2)}
    pairs = [(row["token_key"], row["person_key"]) for row in rows]
    assert pairs == sorted(expected)
    assert token_rows(staged.slice(0, 0)).num_rows == 0


def test_new_household_ids_only_for_addresses_without_one():
    from pipeline.store.portal_index import new_household_ids

    rows = new_household_ids({"100000001"}, pa.array(["100000002", "100000001", "100000002", "100000000"]))
    assert rows["aris_code"].to_pylist() == ["100000000", "100000002"]
    assert all(len(token) == 32 and int(token, 16) >= 0 for token in rows["household_id"].to_pylist())
    assert new_household_ids({"100000001"}, pa.array(["100000001"])).num_rows == 0
