"""The staff lookup portal for appeals (CONTRACTS §14): FastAPI + Jinja2, reading only the store."""
