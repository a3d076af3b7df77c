"""One file per schema version; each applies its `sql/` files (never edit a released one: add a revision)."""
