"""Argument types and a parser whose errors are one line and exit 2.

Every value is checked whole: numbers in ASCII digits within their range (never an ``OverflowError`` further on),
dates as ``YYYY-MM-DD``, UUIDs and slugs to the end of the string (a trailing newline is bad input), text and file
names without control characters. The job notebooks check their parameters with the same types (:func:`checked`).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from datetime import date

from soundcharts_lib.errors import ConfigError
from soundcharts_lib.vocab import parse_date

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*\Z")
WHOLE_RE = re.compile(r"-?[0-9]+\Z")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

MAX_DAYS = 36_500  # a hundred years
MAX_LIMIT = 1_000_000
MAX_SECONDS = 3_600
MAX_ID = 2 ** 63 - 1  # a 64-bit database id
SLUG_MAX, PLATFORM_MAX = 255, 64  # the chart and platform slug columns


class OneLineParser(argparse.ArgumentParser):
    """``argparse`` that reports a bad argument as one line (no usage dump) and exits 2."""

    def error(self, message: str):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def whole_number(low: int, high: int):
    """An argument type: a whole number from ``low`` to ``high``, ASCII digits only (not ``２８``, ``1_0``, ``3.0``)."""

    def parse(text: str) -> int:
        if not WHOLE_RE.match(text):
            raise argparse.ArgumentTypeError(f"not a whole number: {_shown(text)}")
        digits = text.lstrip("-")
        value = int(text) if len(digits) <= 20 else (-1 if text.startswith("-") else 1) * 10 ** 20
        shown = text if len(digits) <= 20 else _shown(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {shown}")
        if value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high}, got {shown}")
        return value

    parse.__name__ = f"whole number from {low} to {high}"
    return parse


def number(low: float, high: float):
    """An argument type: a finite number from ``low`` to ``high`` (not nan, not inf)."""

    def parse(text: str) -> float:
        try:
            value = float(text) if re.fullmatch(r"[-+.0-9eE]+", text) else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"not a finite number: {_shown(text)}")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}, got {value:g}")
        return value

    parse.__name__ = f"number from {low:g} to {high:g}"
    return parse


days = whole_number(1, MAX_DAYS)
hours = whole_number(1, MAX_DAYS * 24)
seconds = whole_number(1, MAX_SECONDS)
limit = whole_number(1, MAX_LIMIT)
count = whole_number(0, MAX_LIMIT)
row_id = whole_number(1, MAX_ID)
port = whole_number(1, 65535)


def iso_date(text: str) -> date:
    try:
        return parse_date(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {_shown(text)}") from None


def _slug(text: str, longest: int) -> str:
    if len(text) > longest or not SLUG_RE.match(text):
        raise argparse.ArgumentTypeError(f"not a slug (lowercase letters, digits, - and _, at most {longest}): "
                                         f"{_shown(text)}")
    return text


def slug(text: str) -> str:
    """A chart slug, a job name, a lock scope."""
    return _slug(text, SLUG_MAX)


def platform(text: str) -> str:
    """A platform code."""
    return _slug(text, PLATFORM_MAX)


def uuid(text: str) -> str:
    if not UUID_RE.match(text):
        raise argparse.ArgumentTypeError(f"not a SoundCharts UUID: {_shown(text)}")
    return text.lower()


def country(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{2}", text, re.ASCII):
        raise argparse.ArgumentTypeError(f"not a 2-letter country code: {_shown(text)}")
    return text.upper()


def text(value: str) -> str:
    """Free text (a name, a label, a note, a URL): one line, no control characters."""
    found = CONTROL_RE.search(value)
    if found:
        raise argparse.ArgumentTypeError(f"must not contain control characters (found {found.group()!r})")
    return value


def file_path(value: str) -> str:
    """A file name: not empty, no NUL or other control characters."""
    if not value:
        raise argparse.ArgumentTypeError("an empty file name")
    found = CONTROL_RE.search(value)
    if found:
        name = "NUL" if found.group() == "\x00" else repr(found.group())
        raise argparse.ArgumentTypeError(f"a file name with a control character ({name})")
    return value


def checked(name: str, parse, value):
    """A job parameter (a string or what papermill passed) through an argument type; None when unset;
    ``ConfigError`` naming the parameter otherwise."""
    if value is None or value == "":
        return None
    try:
        return parse(str(value))
    except argparse.ArgumentTypeError as exc:
        raise ConfigError(f"{name}: {exc}") from None
