"""EIKIS: decides each month which Latvian addresses get energy-bill support and tells suppliers and municipalities.

The package is plain Python with no Airflow import, so every stage can be run and tested on its own:
sources -> quality -> decide -> publish -> deliver -> store.
"""

__version__ = "0.1.0"
