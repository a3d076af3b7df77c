"""Latvian alphabetical order, written out by hand from the alphabet (no system locale involved)."""

from __future__ import annotations

from pipeline.publish.collation import latvian_sort_key


def test_letters_with_diacritics_follow_their_base_letter():
    names = ["Ķekavas nov.", "Ādažu nov.", "Ziemeļkurzemes nov.", "Aizkraukles nov.", "Kuldīgas nov.",
             "Cēsu nov.", "Čiekurkalns", "Ēdole", "Elvi", "Ogre", "Ņukši", "Šķirotava", "Saldus", "Žīguri",
             "Zilupe", "Ģipka", "Gulbene", "Īle", "Iecava", "Ūdrīši", "Ugāle", "Ļaudona", "Lūznava"]
    assert sorted(names, key=latvian_sort_key) == [
        "Aizkraukles nov.", "Ādažu nov.", "Cēsu nov.", "Čiekurkalns", "Elvi", "Ēdole", "Gulbene", "Ģipka",
        "Iecava", "Īle", "Kuldīgas nov.", "Ķekavas nov.", "Lūznava", "Ļaudona", "Ņukši", "Ogre", "Saldus",
        "Šķirotava", "Ugāle", "Ūdrīši", "Ziemeļkurzemes nov.", "Zilupe", "Žīguri"]


def test_case_is_ignored_first_and_spaces_come_before_letters():
    assert sorted(["rīga", "Rīgas nov.", "Rīga"], key=latvian_sort_key) == ["Rīga", "rīga", "Rīgas nov."]
    assert sorted(["Ab", "A b"], key=latvian_sort_key) == ["A b", "Ab"]
    assert sorted(["šis", "Sa", "ŠA"], key=latvian_sort_key) == ["Sa", "ŠA", "šis"]


def test_code_point_order_would_put_long_vowels_last():
    """The bug the key fixes: plain sorted() puts Ā after Z."""
    assert sorted(["Ādažu", "Zilupe"]) == ["Zilupe", "Ādažu"]
    assert sorted(["Ādažu", "Zilupe"], key=latvian_sort_key) == ["Ādažu", "Zilupe"]
