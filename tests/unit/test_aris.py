"""ARIS reader on the real VZD rows (current format) and on the older export (`;`, `#`, UTF-8 or Cp1257)."""

from __future__ import annotations

import shutil

import pytest

from pipeline.errors import SourceError
from pipeline.sources import aris


def csv_files(folder):
    """ARIS's files in a folder as the inbox lists them (by suffix, any case, sorted)."""
    return [path for path in sorted(folder.iterdir()) if path.suffix.lower() == ".csv"]


@pytest.fixture
def register(real_vzd):
    return aris.read_register(csv_files(real_vzd)).set_index("aris_code")


def test_every_real_row_is_read_with_its_status(register):
    # The six files hold 4+12+5+7+8+4 = 40 records (their README says 41; its own table sums to 40).
    assert len(register) == 40
    buildings = register.loc[register["type_code"] == 108]
    assert len(buildings) == 12
    assert buildings["status"].value_counts().to_dict() == {"EKS": 10, "DEL": 1, "ERR": 1}


def test_values_are_kept_unstripped_and_quotes_undoubled(register):
    assert register.loc["101165372", "name"] == "Vilidža "
    assert register.loc["101165372", "address"] == '"Vilidža ", Kombuļi, Kombuļu pag., Krāslavas nov., LV-5656'
    assert register.loc["102748756", "name"] == 'Stacija "Biksti"'
    assert register.loc["102748756", "address"] == '"Stacija "Biksti"", Bikstu pag., Dobeles nov., LV-3713'
    assert register.loc["106849064", "name"] == "19 k-1"
    assert register.loc["101105106", "address"].startswith("Bauskas iela Ozoli, ")


def test_municipality_is_found_by_walking_up_the_chain(register):
    assert register.loc["101003948", "municipality_name"] == "Valmieras nov."   # street → village → parish → novads
    assert register.loc["101003948", "municipality_atvk"] == "0054000"
    assert register.loc["101335418", "municipality_name"] == "Līvānu nov."      # town inside a novads
    assert register.loc["105156152", "municipality_name"] == "Ķekavas nov."
    assert register.loc["101844053", "municipality_code"] == "100003003"        # a state city is its own
    assert register.loc["106849064", "municipality_name"] == "Liepāja"
    assert register.loc["100003003", "municipality_code"] == "100003003"


def test_buildings_are_their_own_building(register):
    assert register.loc["101000034", "building_code"] == "101000034"


def _old_format(rows: list[list[str]], encoding: str) -> bytes:
    header = ["KODS", "TIPS_CD", "NOSAUKUMS", "VKUR_CD", "VKUR_TIPS", "STATUSS", "STD"]
    def line(values: list[str]) -> str:
        return ";".join("#" + v.replace("#", "##") + "#" for v in values) + "\r\n"
    return (line(header) + "".join(line(r) for r in rows)).encode(encoding)


@pytest.mark.parametrize("encoding", ["cp1257", "utf-8"])
def test_older_export_with_hash_quotes_and_either_encoding(tmp_path, encoding):
    rows = [["100016743", "113", "Krāslavas nov.", "100000000", "101", "EKS", "Krāslavas nov."],
            ["101165372", "108", "Vilidža ", "100016743", "113", "EKS", '"Vilidža ", Krāslavas nov.'],
            ["105000001", "109", "7", "101165372", "108", "EKS", '"Vilidža " - 7, Krāslavas nov.']]
    (tmp_path / "AW_DATA.CSV").write_bytes(_old_format(rows, encoding))
    assert aris.sniff(tmp_path / "AW_DATA.CSV").encoding == ("cp1257" if encoding == "cp1257" else "utf8")
    register = aris.read_register(csv_files(tmp_path)).set_index("aris_code")
    assert register.loc["101165372", "name"] == "Vilidža "
    assert register.loc["105000001", "building_code"] == "101165372"
    assert register.loc["105000001", "municipality_name"] == "Krāslavas nov."


def test_columns_are_mapped_by_header_name_not_position(tmp_path, real_vzd):
    source = (real_vzd / "aw_novads.csv").read_text(encoding="utf-8-sig").splitlines()
    header = source[0].split('","')
    reordered = [",".join(reversed(line.split('","'))).replace('"', "") for line in source]
    assert header[0].strip('"') == "KODS"
    (tmp_path / "aw_novads.csv").write_text("\n".join(reordered) + "\n", encoding="utf-8")
    register = aris.read_register([tmp_path / "aw_novads.csv"]).set_index("aris_code")
    assert register.loc["100016647", "name"] == "Valmieras nov."
    assert register.loc["100016647", "atrib"] == "0054000"


def test_missing_key_column_names_the_file(tmp_path, real_vzd):
    shutil.copy(real_vzd / "aw_iela.csv", tmp_path / "aw_iela.csv")
    text = (tmp_path / "aw_iela.csv").read_text(encoding="utf-8-sig").replace('"VKUR_CD"', '"PARENT"', 1)
    (tmp_path / "aw_iela.csv").write_text(text, encoding="utf-8-sig")
    with pytest.raises(SourceError, match=r"aw_iela.csv.*VKUR_CD"):
        aris.read_register([tmp_path / "aw_iela.csv"])


def test_only_plain_ascii_digits_become_numbers():
    import pandas as pd

    from pipeline.sources.aris import _ascii_number

    texts = pd.Series(["123456789", "٣٣", "", "+5", " 1", "00012", None, "108"], dtype="str")
    assert _ascii_number(texts, "int64", missing=-1).tolist() == [123456789, -1, -1, -1, -1, 12, -1, 108]
    assert str(_ascii_number(texts, "int16").dtype) == "int16"


@pytest.mark.parametrize("rename", [False, True])
def test_a_row_broken_after_the_first_64_kib_is_still_a_malformed_file(tmp_path, rename):
    """The header comes from the file's first block; a bad row further on is reported as before, also when a
    column is missing too (malformed first)."""
    lines = ['"KODS","TIPS_CD","STATUSS","VKUR_CD","VKUR_TIPS","NOSAUKUMS"']
    lines += [f'"{100000000 + n}","108","EKS","100016743","113","Ēka {n}"' for n in range(3000)]  # > 64 KiB
    lines += ['"1","2"', '"100009999","108","EKS","100016743","113","Ēka"']
    if rename:
        lines[0] = lines[0].replace('"VKUR_CD"', '"PARENT"')
    path = tmp_path / "aw_eka.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    with pytest.raises(SourceError, match=r"aw_eka.csv: malformed VZD CSV: CSV parse error: Expected 6 columns, "
                                          r'got 2: "1","2"'):
        aris.read_file(path)
