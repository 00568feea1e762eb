"""What the command groups share: the databases a writing and a reading command open, and who the audit log names.

Bad input is one line on stderr and exit 2 (``ConfigError`` through :func:`soundcharts_lib.cli.main.main`).
"""

from __future__ import annotations

import getpass


def actor() -> str:
    """Who the audit log names for a command: ``cli:<OS user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def writer(settings):
    """A writing command's database: migrated first (a newer release's is refused)."""
    from soundcharts_lib.jobs.runtime import migrated_engine

    return migrated_engine(settings)


def reader(settings):
    """A reading command's database: read-only, at this release's revision, never created nor migrated."""
    from soundcharts_lib.jobs.runtime import reading_engine

    return reading_engine(settings)
