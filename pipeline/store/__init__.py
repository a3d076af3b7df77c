"""PostgreSQL / SQLite store of runs, decisions, files and deliveries."""
