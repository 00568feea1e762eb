"""The catalog as untidy as the contract allows: the default (``LocalApiConfig(tidy=True)`` skips this module).

It rewrites the tidy artists, songs and charts after they are built. Each decision draws from its own RNG
stream (``random.Random(f"{seed}:untidy:<what>:<key>")``), so the tidy streams are untouched and the same seed
and ``today`` always give the same catalog. Tests find every kind through ``srv.catalog``: field values,
``song.quirks`` (a set of the names in backquotes below), ``song.outages``, ``identifier.until``,
``chart.lead`` and ``chart.style``. Shares are per item, independent of each other.

Artists (the ten fixed ones excepted): 12% get a messy ``name`` (a kind of :data:`ARTIST_NAME_KINDS`);
``imageUrl`` null for 8% more (tidy: 7%).

Songs:
- ``bare`` 5%: every nullable or empty value at once (as listed next, ``no-artists`` included);
- else each on its own: ``isrc`` null 8% (its ``isrc`` identifier row goes too), ``releaseDate`` null 10%,
  ``imageUrl`` null 8%, ``duration`` null 8%, ``genres`` [] 8%, ``labels`` [] 8%, ``composers`` and
  ``producers`` [] 10%, ``audio`` null 8%, ``copyright`` "" 10%; ``no-artists`` 5%: ``artists`` [] in both song
  objects while ``creditName`` still names them. (Tidy songs already have some of these at lower rates.)
- ``isrc-country-blank``: 15% of songs with an ISRC serve ``isrc.countryCode`` and ``countryName`` "";
- ``no-default``: 10% serve identifier rows without the ``default`` key (the server still filters on it);
- ``name:<kind>`` 15%, kind one of :data:`NAME_KINDS`: ``html`` (``<b>``, ``<i>``, ``&amp;``), ``script``
  (``<script>alert("...")</script>``), ``rtl`` (Arabic or Hebrew), ``emoji`` (with ZWJ and skin-tone sequences),
  ``long`` (exactly 300 characters), ``quotes`` (double and single quotes, a backslash).

Identifiers (every platform, ``isrc`` rows included): ``url`` null on 25% of rows; 10% of platform rows
stop reporting: ``until`` = today - 5..120 days, no audience or popularity plot after it. TikTok ids are
19-digit strings (tidy already), several ids per platform with different ``added`` days (tidy already).

Audience and popularity series, per (song, platform the song has ids on): ``silent:<platform>`` 5% (empty
items although the song has ids there); ``song.outages`` 10%: a run of 3..14 days without items within the
last 100 days (on top of the tidy ~3% single missing days). Paris offsets and totals beyond 2^31: tidy already.

Charts:
- ``lead`` 80%: 60..400 days of rankings simulated before the served window and never served, so the first
  served ranking already has re-entries, up/down entries, ``oldPosition`` set, ``timeOnChart`` in the hundreds
  and ``entryDate`` before the first served date (the others start inside the window, as tidy charts do);
- global charts: ``countryCode`` and ``countryName`` "" instead of null 50%; ``cityName`` "" instead of null
  30%; ``countryName`` null on 10% of country charts; ``webUrl`` null on 30% more; ``related.chart.metric``
  null on 30% of metric charts (their items keep their metric);
- :class:`~.charts.ChartStyle` of the ranking items: ``timeOnChartUnit`` "DOC"/"WOC" 35%; ``entryState`` ""
  30%; ``oldPosition`` 0 instead of null for songs absent from the previous ranking 30%; ``positionEvolution``
  null for them 25%; ``entryDate`` at ``T12:00:00+00:00`` 30%; position-0 drop-outs 35% (one item per song of
  the previous ranking that left, after the ranked items: ``oldPosition`` its last position, ``rankDate`` that
  last ranking's date, ``metric`` null, ``entryState`` "down" or ""); ``metric`` null on 2% of the items of 40%
  of metric charts.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import replace

from . import vocab
from .charts import Chart, ChartStyle, ranking_dates
from .songs import Artist, Song

NAME_KINDS = ("html", "script", "rtl", "emoji", "long", "quotes")
ARTIST_NAME_KINDS = ("html", "script", "rtl", "emoji", "quotes")
ARTIST_NAME_SHARE, ARTIST_IMAGE_SHARE = 0.12, 0.08
BARE_SHARE = 0.05
SONG_SHARES = {"isrc": 0.08, "releaseDate": 0.1, "imageUrl": 0.08, "duration": 0.08, "genres": 0.08,
               "labels": 0.08, "credits": 0.1, "audio": 0.08, "copyright": 0.1, "artists": 0.05}
ISRC_COUNTRY_SHARE, NO_DEFAULT_SHARE, SONG_NAME_SHARE = 0.15, 0.1, 0.15
URL_NULL_SHARE, STOP_SHARE = 0.25, 0.1
SILENT_SHARE, OUTAGE_SHARE = 0.05, 0.1
LEAD_SHARE = 0.8
LONG_NAME = 300


def messy_name(rng: random.Random, name: str, kind: str) -> str:
    """``name`` rewritten as one of :data:`NAME_KINDS`."""
    if kind == "html":
        return f"<b>{name}</b> &amp; <i>{rng.choice(vocab.TITLE_NOUN)}</i>"
    if kind == "script":
        return f'<script>alert("{name}")</script>'
    if kind == "rtl":
        return rng.choice(vocab.RTL_NAMES)
    if kind == "emoji":
        return f"{name} {rng.choice(vocab.EMOJI)}"
    if kind == "long":
        words = itertools.cycle(("Extended", "Version", "feat.", "Everyone", "Remastered", "Live", "at", "Home"))
        text = f"{name} ("
        while len(text) < LONG_NAME:
            text += next(words) + " "
        return text[:LONG_NAME - 1] + ")"
    return f'{name} "Live" \\ Don\'t Stop'


def artists(seed: int, tidy: list[Artist]) -> list[Artist]:
    out = []
    for index, artist in enumerate(tidy):
        rng = random.Random(f"{seed}:untidy:artist:{index}")
        rename, kind = rng.random() < ARTIST_NAME_SHARE, rng.choice(ARTIST_NAME_KINDS)
        no_image = rng.random() < ARTIST_IMAGE_SHARE
        if index < len(vocab.FIXED_ARTISTS):
            out.append(artist)
            continue
        out.append(replace(artist, name=messy_name(rng, artist.name, kind) if rename else artist.name,
                           image_url=None if no_image else artist.image_url))
    return out


def _identifiers(seed: int, song: Song, keep_isrc: bool, today: dt.date) -> tuple:
    rng = random.Random(f"{seed}:untidy:ids:{song.index}")
    out = []
    for ident in song.identifiers:
        no_url, stops, last = rng.random() < URL_NULL_SHARE, rng.random() < STOP_SHARE, \
            today - dt.timedelta(days=rng.randint(5, 120))
        if ident.platform == "isrc" and not keep_isrc:
            continue
        until = last if stops and ident.platform != "isrc" and last >= ident.added else None
        out.append(replace(ident, url=None, until=until) if no_url else replace(ident, until=until) if until
                   else ident)
    return tuple(out)


def _series_quirks(seed: int, song: Song, today: dt.date) -> tuple[set[str], tuple]:
    rng = random.Random(f"{seed}:untidy:series:{song.index}")
    quirks, outages = set(), []
    for platform in sorted({ident.platform for ident in song.identifiers} - {"isrc"}):
        silent, outage, length = rng.random() < SILENT_SHARE, rng.random() < OUTAGE_SHARE, rng.randint(3, 14)
        last = today - dt.timedelta(days=rng.randint(1, 100 - length))
        if silent:
            quirks.add(f"silent:{platform}")
        if outage:
            outages.append((platform, last - dt.timedelta(days=length - 1), last))
    return quirks, tuple(outages)


def song(seed: int, tidy: Song, today: dt.date) -> Song:
    rng = random.Random(f"{seed}:untidy:song:{tidy.index}")
    bare = rng.random() < BARE_SHARE
    empty = {field for field, share in SONG_SHARES.items() if rng.random() < share or bare}
    blank_country, no_default = rng.random() < ISRC_COUNTRY_SHARE, rng.random() < NO_DEFAULT_SHARE
    rename, kind = rng.random() < SONG_NAME_SHARE, rng.choice(NAME_KINDS)
    isrc = None if "isrc" in empty else tidy.isrc
    quirks, outages = _series_quirks(seed, tidy, today)
    quirks |= {name for name, on in (("bare", bare), ("no-artists", "artists" in empty),
                                     ("isrc-country-blank", blank_country and isrc is not None),
                                     ("no-default", no_default), (f"name:{kind}", rename)) if on}
    credits = "credits" in empty
    return replace(
        tidy, name=messy_name(rng, tidy.name, kind) if rename else tidy.name, isrc=isrc,
        release_known=tidy.release_known and "releaseDate" not in empty,
        image_url=None if "imageUrl" in empty else tidy.image_url,
        duration=None if "duration" in empty else tidy.duration,
        genres=() if "genres" in empty else tidy.genres, labels=() if "labels" in empty else tidy.labels,
        composers=() if credits else tidy.composers, producers=() if credits else tidy.producers,
        audio=None if "audio" in empty else tidy.audio, copyright="" if "copyright" in empty else tidy.copyright,
        identifiers=_identifiers(seed, tidy, isrc is not None, today), quirks=frozenset(quirks), outages=outages)


def chart(seed: int, tidy: Chart, today: dt.date, history_days: int) -> Chart:
    rng = random.Random(f"{seed}:untidy:chart:{tidy.slug}")
    lead_days = rng.randint(60, 400) if rng.random() < LEAD_SHARE else 0
    blank_country, blank_city, no_country_name, no_web, no_metric = (rng.random() < share
                                                                     for share in (0.5, 0.3, 0.1, 0.3, 0.3))
    style = ChartStyle(units=("DOC", "WOC") if rng.random() < 0.35 else ("day", "week"),
                       blank_states=rng.random() < 0.3, zero_old=rng.random() < 0.3,
                       null_evolution=rng.random() < 0.25, noon_entry=rng.random() < 0.3,
                       dropouts=rng.random() < 0.35,
                       metric_gap=0.02 if rng.random() < 0.4 and tidy.metric_top else 0.0)
    lead, dates = (), tidy.dates
    if lead_days:
        window = today - dt.timedelta(days=history_days)
        every = ranking_dates(rng, tidy.frequency, window - dt.timedelta(days=lead_days), today)
        lead, dates = tuple(d for d in every if d < window), tuple(d for d in every if d >= window)
    country_code, country_name = tidy.country_code, tidy.country_name
    if country_code is None and blank_country:
        country_code = country_name = ""
    elif country_code is not None and no_country_name:
        country_name = None
    return replace(tidy, country_code=country_code, country_name=country_name,
                   city_name="" if tidy.city_name is None and blank_city else tidy.city_name,
                   web_url=None if no_web else tidy.web_url, metric=None if no_metric else tidy.metric,
                   dates=dates, lead=lead, style=style)
