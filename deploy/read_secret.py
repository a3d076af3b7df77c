"""Print a secret, or a connection URL with its password joined, from a secret file: an Airflow `_CMD` setting.

    python /opt/eikis/deploy/read_secret.py /run/secrets/airflow_fernet_key
    python /opt/eikis/deploy/read_secret.py --into-url postgresql+psycopg2://airflow@airflow-db/airflow \
        /run/secrets/airflow_db_password

Airflow reads `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD`, `AIRFLOW__CELERY__BROKER_URL_CMD`, … by running the
command (split like a shell would, no shell) and taking what it prints, as printed: a trailing newline would
become part of the database name or the key, so nothing follows the value. The compose file therefore names only
a URL without a password and the secret file's path: the password is never in docker-compose.yaml, in an
environment variable, or in any process's argv, and each service that needs it mounts the one file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit


def secret(path: Path) -> str:
    """The file's first line (a secret file holds one value; its newline is not part of it)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0]:
        raise ValueError(f"{path} is empty")
    return lines[0]


def url_with_password(url: str, password: str) -> str:
    """`url` (a user, no password) with `password`, percent-encoded, joined."""
    parts = urlsplit(url)
    if not parts.username or parts.password is not None or "@" not in parts.netloc:
        raise ValueError("the URL must name a user and carry no password (dialect://user@host/...)")
    user, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "--into-url":
        url, path = argv[1], Path(argv[2])
    elif len(argv) == 1:
        url, path = None, Path(argv[0])
    else:
        print("usage: read_secret.py [--into-url URL] SECRET_FILE", file=sys.stderr)
        return 2
    try:
        value = secret(path)
        sys.stdout.write(value if url is None else url_with_password(url, value))
    except (OSError, ValueError) as exc:
        # Never echo a URL back with anything joined: only the reason and the file's path.
        print(f"read_secret: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
