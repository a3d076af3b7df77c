"""Latvian names and places for the generator. Real municipality and company names make files look real;
the persons are invented."""

from __future__ import annotations

MALE_GIVEN = (
    "Jānis", "Andris", "Pēteris", "Mārtiņš", "Edgars", "Kārlis", "Juris", "Aivars", "Raivis", "Artūrs",
    "Valdis", "Uldis", "Gatis", "Oskars", "Roberts", "Dāvis", "Ēriks", "Rūdolfs", "Kristaps", "Aleksandrs",
)
FEMALE_GIVEN = (
    "Anna", "Līga", "Inese", "Ilze", "Kristīne", "Laura", "Dace", "Sandra", "Anete", "Zane",
    "Elīna", "Marta", "Agnese", "Ieva", "Evita", "Māra", "Baiba", "Gunta", "Sanita", "Līva",
)
SURNAME_STEMS = (
    ("Bērziņš", "Bērziņa"), ("Kalniņš", "Kalniņa"), ("Ozoliņš", "Ozoliņa"), ("Jansons", "Jansone"),
    ("Ozols", "Ozola"), ("Liepiņš", "Liepiņa"), ("Krūmiņš", "Krūmiņa"), ("Balodis", "Balode"),
    ("Zariņš", "Zariņa"), ("Pētersons", "Pētersone"), ("Kļaviņš", "Kļaviņa"), ("Vītols", "Vītola"),
    ("Eglītis", "Eglīte"), ("Siliņš", "Siliņa"), ("Lūsis", "Lūse"), ("Āboliņš", "Āboliņa"),
    ("Žagars", "Žagare"), ("Šmits", "Šmite"), ("Čakste", "Čakste"), ("Ģērmanis", "Ģērmane"),
)
STREET_STEMS = (
    "Brīvības", "Rīgas", "Skolas", "Dārza", "Ozolu", "Bērzu", "Liepu", "Priežu", "Saules", "Meža",
    "Krišjāņa Barona", "Tērbatas", "Lāčplēša", "Ganību", "Pils", "Jūras", "Stacijas", "Zemgales", "Kalna",
    "Ezera", "Upes", "Pļavas", "Avotu", "Smilšu", "Čiekuru", "Ābeļu", "Ķiršu", "Vītolu", "Akmeņu", "Lauku",
)
HOUSE_NAMES = (
    "Riņņi", "Ozoli", "Vilidža ", "Ilgas", "Ierasti", "Ausekļi", "Kalnāji", "Lejas", "Jaunsētas", "Priedes",
    'Stacija "Biksti"', "Mežmaļi", "Straumēni", "Vecsētas", "Rūķīši", "Ābeles", "Dzērves", "Ezerkrasti",
)
VILLAGE_STEMS = (
    "Valmiermuiža", "Bārbele", "Kombuļi", "Tiņģere", "Ropaži", "Inciems", "Lielvārde", "Ķegums", "Vecpiebalga",
    "Jaunpils", "Rauna", "Ērgļi", "Zaube", "Skrīveri", "Ādaži", "Carnikava", "Mārupe", "Baltezers",
)

# (name, genitive stem used in "X nov." and in parish names)
MUNICIPALITIES = (
    "Valmieras", "Bauskas", "Krāslavas", "Līvānu", "Dobeles", "Talsu", "Ķekavas", "Ogres", "Siguldas",
    "Cēsu", "Limbažu", "Madonas", "Gulbenes", "Alūksnes", "Balvu", "Rēzeknes", "Ludzas", "Preiļu",
    "Augšdaugavas", "Jēkabpils", "Aizkraukles", "Tukuma", "Kuldīgas", "Saldus", "Ventspils", "Dienvidkurzemes",
    "Jelgavas", "Olaines", "Ropažu", "Salaspils", "Saulkrastu", "Smiltenes", "Valkas", "Varakļānu", "Mārupes",
    "Ādažu",
)
STATE_CITIES = (
    ("Rīga", "0001000"), ("Daugavpils", "0005000"), ("Jelgava", "0009000"), ("Jēkabpils", "0011000"),
    ("Jūrmala", "0013000"), ("Liepāja", "0017000"), ("Ogre", "0074000"), ("Rēzekne", "0021000"),
    ("Valmiera", "0025000"), ("Ventspils", "0027000"),
)

# Electricity and gas traders, heat suppliers (names as registered; registration numbers are illustrative).
ELECTRICITY_TRADERS = (
    ('AS "Latvenergo"', "40003032949", 0.66),
    ('SIA "Enefit"', "40103243453", 0.13),
    ('SIA "Tet"', "40003052786", 0.10),
    ('SIA "MVBK"', "40103512768", 0.04),
    ('SIA "AJ Power"', "40103399861", 0.04),
    ('SIA "Elektrum Latvija"', "40203331207", 0.03),
)
GAS_TRADERS = (
    ('AS "Latvijas Gāze"', "40003000642", 0.70),
    ('SIA "Elenger"', "40103917295", 0.20),
    ('AS "Latvenergo"', "40003032949", 0.10),
)
CITY_HEAT_SUPPLIERS = {
    "Rīga": ('AS "Rīgas siltums"', "40003286750"),
    "Daugavpils": ('AS "Daugavpils siltumtīkli"', "41503002432"),
    "Jelgava": ('SIA "Fortum Jelgava"', "40003711283"),
    "Liepāja": ('SIA "Liepājas enerģija"', "42103032271"),
    "Valmiera": ('SIA "Valmieras ūdens"', "44103015509"),
}
