"""Name tokens, their keyed hashes and sealed display names: what the portal's name search and display rely on."""

from __future__ import annotations

import pandas as pd

from pipeline.quality.pseudonym import fold, fold_series, name_keys, name_tokens, token_key
from pipeline.quality.sealing import Sealer


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
