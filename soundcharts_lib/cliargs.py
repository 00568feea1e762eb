"""Argument types and a parser whose errors are one line and exit 2."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import date

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class OneLineParser(argparse.ArgumentParser):
    """``argparse`` that reports a bad argument as one line (no usage dump) and exits 2."""

    def error(self, message: str):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def port(text: str) -> int:
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {value}")
    return value


def slug(text: str) -> str:
    if not SLUG_RE.match(text):
        raise argparse.ArgumentTypeError(f"not a slug (lowercase letters, digits, - and _): {text!r}")
    return text


def uuid(text: str) -> str:
    if not UUID_RE.match(text):
        raise argparse.ArgumentTypeError(f"not a SoundCharts UUID: {text!r}")
    return text.lower()
