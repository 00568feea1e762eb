"""The browser files of the light snapshot page (:mod:`.light_page`), installed beside the Python packages.

The light page draws a snapshot's widgets with Jupyter's standalone widget manager
(``@jupyter-widgets/html-manager``: its ``libembed-amd.js``, which renders nothing by itself, and the fonts its CSS
names) loaded by require.js; bqplot's and bqscales' AMD modules come with their Python packages
(``share/jupyter/nbextensions``). No Python package carries the first two, so ``make install`` fetches
them from the npm registry (:data:`PACKAGES`: pinned versions, each tarball checked against its registry integrity
before anything is written) into ``share/soundcharts-workbench/widget-embed`` of the environment::

    python -m soundcharts_lib.web.embed_assets          # install (nothing to do when present)
    python -m soundcharts_lib.web.embed_assets --check  # exit 1 when missing

Without them the server serves snapshot pages with Voila's own front end, as before (:func:`installed`).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"
TIMEOUT = 120


@dataclass(frozen=True)
class Package:
    tarball: str  # path under the registry
    integrity: str  # the registry's ``dist.integrity`` (sha512, base64)
    files: tuple[str, ...]  # members kept: a name, or a folder ending in "/" (its files, flattened)


PACKAGES = (
    Package("@jupyter-widgets/html-manager/-/html-manager-1.0.15.tgz",
            "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
            ("package/dist/libembed-amd.js", "package/dist/")),
    Package("requirejs/-/requirejs-2.3.7.tgz",
            "sha512-DouTG8T1WanGok6Qjg2SXuCMzszOo0eHeH9hDZ5Y4x8Je+9JB38HdTLT4/VA8OaUhBa0JPVHJ0pyBkM1z+pDsw==",
            ("package/require.js",)),
)
KEPT_SUFFIXES = (".woff", ".woff2", ".ttf", ".eot", ".svg")  # of a kept folder: the fonts the manager's CSS names
REQUIRED = ("libembed-amd.js", "require.js")
# The manager's module compiles its JSON schemas as it loads, with ``new Function``, which the pages'
# Content-Security-Policy forbids (no 'unsafe-eval'); the light page never validates (its states are the server's),
# so that line goes: (file, text, replacement), the text found exactly once.
PATCHES = (("libembed-amd.js", ",gt=new(ht());gt.compile(At),gt.compile(pt);", ";"),)


def folder(prefix: str | None = None) -> Path:
    """Where the files are: ``share/soundcharts-workbench/widget-embed`` of the environment."""
    return Path(prefix or sys.prefix) / "share" / "soundcharts-workbench" / "widget-embed"


def nbextensions(prefix: str | None = None) -> Path:
    """The environment's classic-notebook extensions (bqplot's and bqscales' AMD modules)."""
    return Path(prefix or sys.prefix) / "share" / "jupyter" / "nbextensions"


def installed(prefix: str | None = None) -> bool:
    """Whether the light page can be served: the manager, require.js and bqplot's modules are all there."""
    ours = folder(prefix)
    return all((ours / name).is_file() for name in REQUIRED) and all(
        (nbextensions(prefix) / name / "index.js").is_file() for name in ("bqplot", "bqscales"))


def checked(data: bytes, integrity: str) -> bytes:
    """``data`` if its sha512 is ``integrity``; else ``ValueError``."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512" or base64.b64encode(hashlib.sha512(data).digest()).decode() != expected:
        raise ValueError("the downloaded tarball does not match its pinned checksum")
    return data


def extract(data: bytes, package: Package, into: Path) -> list[str]:
    """The package's kept files, from its tarball ``data``, written flat into ``into``: their names."""
    written = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            name = member.name.rsplit("/", 1)[-1]
            wanted = any(member.name == kept or (kept.endswith("/") and member.name.startswith(kept)
                                                and "/" not in member.name[len(kept):] and name.endswith(KEPT_SUFFIXES))
                         for kept in package.files)
            if wanted:
                (into / name).write_bytes(archive.extractfile(member).read())
                written.append(name)
    return written


def install(prefix: str | None = None, registry: str = REGISTRY) -> Path:
    """Fetch, check and unpack :data:`PACKAGES` into :func:`folder` (written aside, then moved in whole)."""
    target = folder(prefix)
    staging = target.with_name(target.name + ".partial")
    staging.mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        with urllib.request.urlopen(f"{registry}/{package.tarball}", timeout=TIMEOUT) as answer:  # noqa: S310
            extract(checked(answer.read(), package.integrity), package, staging)
    for name, text, replacement in PATCHES:
        found = (staging / name).read_text(encoding="utf-8")
        if found.count(text) != 1:
            raise ValueError(f"{name} is not the file this installer patches")
        (staging / name).write_text(found.replace(text, replacement), encoding="utf-8")
    if target.exists():
        for old in target.iterdir():
            old.unlink()
        target.rmdir()
    staging.rename(target)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Install the light snapshot page's browser files.")
    ap.add_argument("--check", action="store_true", help="only say whether they are installed (exit 1 if not)")
    args = ap.parse_args(argv)
    if installed():
        print(f"widget embed files: {folder()}")
        return 0
    if args.check:
        print("widget embed files: not installed (python -m soundcharts_lib.web.embed_assets)", file=sys.stderr)
        return 1
    try:
        where = install()
    except (OSError, ValueError) as exc:
        print(f"widget embed files not installed: {exc}", file=sys.stderr)
        return 1
    print(f"widget embed files installed: {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
