"""Alembic migrations of the EIKIS store (`eikis db upgrade`); see `pipeline.store.migrate`."""
