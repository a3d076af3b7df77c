"""Print a connection URL with its password joined from a secret file: the value of an Airflow `_CMD` setting.

    python /opt/eikis/deploy/secret_url.py postgresql+psycopg2://airflow@postgres/airflow /run/secrets/postgres_password

Airflow reads `AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD`, `AIRFLOW__CELERY__BROKER_URL_CMD`, … by running the
command (split like a shell would, no shell) and taking what it prints. The compose file therefore names only a
URL without a password and the secret file's path: the password is never in docker-compose.yaml, in an
environment variable, or in any process's argv, and each service that needs it mounts the one file.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit


def url_with_password(url: str, password_file: Path) -> str:
    """`url` (user, no password) with the file's first line, percent-encoded, as the password."""
    parts = urlsplit(url)
    if not parts.username or parts.password is not None or "@" not in parts.netloc:
        raise ValueError("the URL must name a user and carry no password (dialect://user@host/...)")
    lines = password_file.read_text(encoding="utf-8").splitlines()
    if not lines or not lines[0]:
        raise ValueError(f"{password_file} is empty")
    user, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(lines[0], safe='')}@{host}"))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: secret_url.py URL PASSWORD_FILE", file=sys.stderr)
        return 2
    try:
        print(url_with_password(argv[0], Path(argv[1])))
    except (OSError, ValueError) as exc:
        # Never echo the URL back with anything joined: only the reason and the file's path.
        print(f"secret_url: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
