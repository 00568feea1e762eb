"""What the command groups share: the databases a writing and a reading command open, who the audit log names, and
how a command runs a job.

Bad input is one line on stderr and exit 2 (``ConfigError`` through :func:`soundcharts_lib.cli.main.main`).
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import replace

from soundcharts_lib.cli.exits import EXIT_FAILED, EXIT_OK


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


def run_and_report(job, settings, params) -> int:
    """``job(settings, params)`` (a job function of :mod:`soundcharts_lib.jobs`) started by the command line: its
    summary and notes on stdout, what it skipped and its first ten failures on stderr; exit 0 when it succeeded, 1
    otherwise."""
    from soundcharts_lib.jobs.result import SHOWN_FAILURES, JobFailed

    try:
        result = job(replace(settings, trigger="cli", job_notebook=""), params)
    except JobFailed as exc:
        result = exc.result
    print(result.summary)
    for note in result.notes:
        print(note)
    for message in result.skipped:
        print(f"  skipped {message}", file=sys.stderr)
    for failure in result.failures[:SHOWN_FAILURES]:
        print(f"  {failure}", file=sys.stderr)
    return EXIT_OK if result.status == "success" else EXIT_FAILED
