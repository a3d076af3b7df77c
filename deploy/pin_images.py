"""Pin every external image of the deployment to its registry digest (`make pin-images`).

    python deploy/pin_images.py [--check]

A tag (`postgres:16-bookworm`) names whatever the registry serves today; a digest names one image for ever, so the
image that was reviewed is the image that runs, and a changed base image shows up as a diff to review. This
rewrites each `FROM` line of `Dockerfile` and `deploy/sftp/Dockerfile` and each `image:` line of
`docker-compose.yaml` from `name:tag` (or `name:tag@sha256:old`) to `name:tag@sha256:<digest of name:tag now>`:
run it where the registry is reachable (it asks `docker buildx imagetools inspect`, or `skopeo inspect`), review
the diff, commit. Re-run it to take a rebuilt base image (security fixes). The project's own images
(`eikis-…`, built by compose) are left alone. `--check` exits 1 when a reference is not pinned yet.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ("Dockerfile", "deploy/sftp/Dockerfile", "docker-compose.yaml")
REFERENCE = re.compile(r"^(?P<lead>FROM[ \t]+|[ \t]+image:[ \t]+)(?P<ref>[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+"
                       r"(?:@sha256:[0-9a-f]{64})?)(?P<rest>.*)$", re.MULTILINE)
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def references(text: str) -> list[str]:
    """The external image references of one file (the project's own `eikis-…` images excluded)."""
    return [m["ref"] for m in REFERENCE.finditer(text) if not m["ref"].startswith("eikis-")]


def registry_digest(tag: str) -> str:
    """The digest the registry serves for `tag` now (the multi-platform index, as `docker pull` resolves it)."""
    if shutil.which("docker"):
        command = ["docker", "buildx", "imagetools", "inspect", tag, "--format", "{{json .Manifest.Digest}}"]
    elif shutil.which("skopeo"):
        command = ["skopeo", "inspect", "--format", "{{.Digest}}", f"docker://{tag}"]
    else:
        raise RuntimeError("pin-images needs docker (buildx) or skopeo, and the registry")
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=120).stdout.strip().strip('"')


def pin(text: str, resolve: Callable[[str], str]) -> str:
    """The file's text with every external reference pinned to `resolve(tag)`."""
    resolved: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        reference = match["ref"]
        if reference.startswith("eikis-"):
            return match[0]
        tag = reference.split("@", 1)[0]
        if tag not in resolved:
            digest = resolve(tag)
            if not DIGEST.fullmatch(digest):
                raise RuntimeError(f"{tag}: the registry answered {digest[:80]!r}, not a sha256 digest")
            resolved[tag] = digest
        return f"{match['lead']}{tag}@{resolved[tag]}{match['rest']}"

    return REFERENCE.sub(replace, text)


def main(argv: list[str] | None = None, root: Path = ROOT, resolve: Callable[[str], str] = registry_digest) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when an image is referenced by tag only")
    args = parser.parse_args(argv)
    if args.check:
        loose = [f"{name}: {ref}" for name in FILES for ref in references((root / name).read_text(encoding="utf-8"))
                 if "@sha256:" not in ref]
        for line in loose:
            print(f"pin-images: not pinned by digest: {line}", file=sys.stderr)
        return 1 if loose else 0
    try:
        for name in FILES:
            path = root / name
            text = path.read_text(encoding="utf-8")
            pinned = pin(text, resolve)
            if pinned != text:
                path.write_text(pinned, encoding="utf-8")
                print(f"pin-images: pinned {name}")
    except (RuntimeError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(f"pin-images: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
