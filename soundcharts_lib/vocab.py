"""The shared vocabulary: identifiers, slugs, dates, countries, numbers and free text, checked whole, in a module that
imports nothing heavy (dashboard kernels, the web server, the jobs and the command line all use it).

Every check is a function of the text that returns the value or raises :class:`BadValue` (a ``ConfigError`` and a
``ValueError``) in one line: numbers in ASCII digits within their range (never an ``OverflowError`` further on),
dates as ``YYYY-MM-DD``, UUIDs and slugs to the end of the string (a trailing newline is bad input), text and file
names without control characters. The command line wraps them as argument types (:mod:`soundcharts_lib.cli.args`);
the job notebooks check their parameters with :func:`checked`.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

from soundcharts_lib.errors import ConfigError

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*\Z")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")  # ASCII digits only: not 20250101, not "２０２６-01-01"
WHOLE_RE = re.compile(r"-?[0-9]+\Z")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
EMAIL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+\Z")
EMAIL_MAX = 254

# ISRC: country (2 letters), registrant (3 letters or digits), year (2 digits), designation (5 digits); the display
# form's dashes are allowed. A Spotify track id is 22 base-62 characters, alone or in an open.spotify.com link or URI.
ISRC_RE = re.compile(r"([A-Za-z]{2})-?([A-Za-z0-9]{3})-?([0-9]{2})-?([0-9]{5})\Z")
SPOTIFY_TRACK_RE = re.compile(r"(?:spotify:track:|(?:https?://)?(?:open|play)\.spotify\.com/(?:intl-[a-z]{2}(?:-[A-Za-z]{2})?/)?"
                              r"(?:embed/)?track/)?([0-9A-Za-z]{22})(?:/?[?#][\x21-\x7e]*|/)?\Z")

MAX_DAYS = 36_500  # a hundred years
MAX_LIMIT = 1_000_000
MAX_SECONDS = 3_600
MAX_ID = 2 ** 63 - 1  # a 64-bit database id
SLUG_MAX, PLATFORM_MAX = 255, 64  # the chart and platform slug columns
PLATFORM_ID_MAX = 255  # a song's or artist's identifier on a platform
ALERT_KINDS = ("top_entry", "re_entry", "audience_growth", "chart_stale", "artist_growth",
               "artist_entry")  # what an alert rule watches


class BadValue(ConfigError, ValueError):
    """A value that is not what it should be, said in one line."""


def today_utc() -> date:
    return datetime.now(UTC).date()


def shown(text: str) -> str:
    """``text`` quoted for a message, cut at 40 characters."""
    return repr(text if len(text) <= 40 else text[:40] + "...")


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` (the whole string, a real day); ``ValueError`` otherwise."""
    if not isinstance(text, str) or not DATE_RE.match(text):
        raise ValueError(f"not a date as YYYY-MM-DD: {text!r}")
    return date.fromisoformat(text)


def check_not_after(day: date | None, today: date, what: str) -> None:
    """``ConfigError`` for a ``day`` after ``today``: the API has nothing for it yet."""
    if day is not None and day > today:
        raise ConfigError(f"{what} {day} is after today ({today}, UTC)")


def whole_number(low: int, high: int):
    """A check: a whole number from ``low`` to ``high``, ASCII digits only (not ``２８``, ``1_0``, ``3.0``)."""

    def parse(text: str) -> int:
        if not WHOLE_RE.match(text):
            raise BadValue(f"not a whole number: {shown(text)}")
        digits = text.lstrip("-")
        value = int(text) if len(digits) <= 20 else (-1 if text.startswith("-") else 1) * 10 ** 20
        said = text if len(digits) <= 20 else shown(text)
        if value < low:
            raise BadValue(f"must be at least {low}, got {said}")
        if value > high:
            raise BadValue(f"must be at most {high}, got {said}")
        return value

    parse.__name__ = f"whole number from {low} to {high}"
    return parse


def number(low: float, high: float):
    """A check: a finite number from ``low`` to ``high`` (not nan, not inf)."""

    def parse(text: str) -> float:
        try:
            value = float(text) if re.fullmatch(r"[-+.0-9eE]+", text) else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise BadValue(f"not a finite number: {shown(text)}")
        if not low <= value <= high:
            raise BadValue(f"must be from {low:g} to {high:g}, got {value:g}")
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
        raise BadValue(f"not a date (YYYY-MM-DD): {shown(text)}") from None


def _slug(text: str, longest: int) -> str:
    if len(text) > longest or not SLUG_RE.match(text):
        raise BadValue(f"not a slug (lowercase letters, digits, - and _, at most {longest}): {shown(text)}")
    return text


def slug(text: str) -> str:
    """A chart slug, a job name, a lock scope."""
    return _slug(text, SLUG_MAX)


def platform(text: str) -> str:
    """A platform code."""
    return _slug(text, PLATFORM_MAX)


def uuid(text: str) -> str:
    if not UUID_RE.match(text):
        raise BadValue(f"not a SoundCharts UUID: {shown(text)}")
    return text.lower()


def country(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{2}", text, re.ASCII):
        raise BadValue(f"not a 2-letter country code: {shown(text)}")
    return text.upper()


def isrc(text: str) -> str:
    """An ISRC as the API wants it: 12 uppercase characters (``usat2-20-03158`` gives ``USAT22003158``)."""
    found = ISRC_RE.match(text)
    if not found:
        raise BadValue(f"not an ISRC (12 characters: 2 letters, 3 letters or digits, 7 digits): {shown(text)}")
    return "".join(found.groups()).upper()


def spotify_track_id(text: str) -> str:
    """The 22-character id of a Spotify track, given alone, as ``spotify:track:ID`` or as an open.spotify.com link."""
    found = SPOTIFY_TRACK_RE.match(text)
    if not found:
        raise BadValue(f"not a Spotify track id or link (open.spotify.com/track/ and 22 letters or digits): "
                       f"{shown(text)}")
    return found.group(1)


def platform_id(text: str) -> str:
    """A song's or artist's identifier on a platform (kept as text: numeric ids pass 2^53, some hold ``/``)."""
    if not text or len(text) > PLATFORM_ID_MAX or text != text.strip() or CONTROL_RE.search(text):
        raise BadValue(f"not a platform identifier (1 to {PLATFORM_ID_MAX} characters, no spaces around, "
                       f"no control characters): {shown(text)}")
    return text


def one_of(value: str, allowed: tuple[str, ...], what: str) -> str:
    """``value`` when it is one of ``allowed`` (an API enumeration such as a sort key)."""
    if value not in allowed:
        raise BadValue(f"{what} must be one of {', '.join(allowed)}, got {shown(str(value))}")
    return value


def text(value: str) -> str:
    """Free text (a name, a label, a note, a URL): one line, no control characters."""
    found = CONTROL_RE.search(value)
    if found:
        raise BadValue(f"must not contain control characters (found {found.group()!r})")
    return value


def email_address(text: str) -> str:
    """An e-mail address as a mail server takes it: ``local@domain``, a domain of dotted names (letters, digits,
    hyphens), no spaces, angle brackets, commas or control characters, at most 254 characters."""
    if len(text) > EMAIL_MAX or not EMAIL_RE.match(text):
        raise BadValue(f"not an e-mail address (name@domain.example): {shown(text)}")
    return text


def file_path(value: str) -> str:
    """A file name: not empty, no NUL or other control characters."""
    if not value:
        raise BadValue("an empty file name")
    found = CONTROL_RE.search(value)
    if found:
        name = "NUL" if found.group() == "\x00" else repr(found.group())
        raise BadValue(f"a file name with a control character ({name})")
    return value


def checked(name: str, parse, value):
    """A job parameter (a string or what papermill passed) through a check; None when unset; ``BadValue`` naming
    the parameter otherwise."""
    if value is None or value == "":
        return None
    try:
        return parse(str(value))
    except BadValue as exc:
        raise BadValue(f"{name}: {exc}") from None
