"""Hypothesis strategies for SoundCharts bodies as the contract (``shared/soundcharts-api.md``) allows them: every
nullable field null or set, empty lists, ``""`` where the API sends it for "unknown", odd strings (markup, RTL,
emoji, 300 characters, control characters but never NUL), numbers past 2^31, ranking items at position 0, audience
series with gaps, null values and several identifiers, timestamps with local offsets."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

ODD = ("<script>window.__pwned = 1</script>", "<img src=x onerror=alert(1)>", "Robert'); DROP TABLE track;--",
       "שיר ישן", "أغنية جديدة", "\u202eevil\u202c", "🎵🔥👩‍🎤", "x" * 300, "tab\there\nnew line\r\x0b\x0c\x1b",
       "&amp; &lt;b&gt;", "  spaced  ", "Beyoncé · Ñandú")
OFFSETS = ("+00:00", "+01:00", "+02:00", "-05:00", "+05:30")
STATES = ("", "NEW", "RE-ENTRY", "UP", "DOWN", "SAME", "new", "re-entry", "OUT")
UNITS = ("day", "week", "days", "weeks", "Day", "")
PLATFORM_CODES = ("spotify", "apple-music", "deezer", "youtube", "tiktok", "soundcloud", "shazam", "isrc")

_chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
odd_text = st.one_of(st.sampled_from(ODD), st.text(_chars, min_size=1, max_size=300))
maybe_empty = st.one_of(st.just(""), odd_text)
uuids = st.uuids().map(str)
urls = st.one_of(st.none(), st.builds(lambda n: f"https://open.example/{n}", st.integers(0, 10**9)))
big = st.integers(0, 2**62)  # cumulative streams and views pass 2^31


def stamp(day: date, offset: str) -> str:
    """An ATOM timestamp at local midnight, as the API writes them."""
    return f"{day.isoformat()}T00:00:00{offset}"


def stamps(day: date):
    return st.sampled_from(OFFSETS).map(lambda o: stamp(day, o))


def page(count: int) -> dict:
    return {"offset": 0, "limit": 100, "next": None, "previous": None, "total": count}


@st.composite
def chart_objects(draw, slug: str, platform: str) -> dict:
    metric = draw(st.one_of(st.none(), st.fixed_dictionaries({"type": st.sampled_from(["streams", "spins"]),
                                                              "description": maybe_empty})))
    return {"name": draw(odd_text), "type": "song", "slug": slug, "platform": platform,
            "frequency": draw(st.sampled_from(["daily", "weekly"])),
            "countryCode": draw(st.sampled_from([None, "", "US", "fr"])), "countryName": draw(st.one_of(st.none(),
                                                                                                       maybe_empty)),
            "cityName": None, "maxResultsCount": draw(st.integers(0, 200)), "webUrl": draw(urls), "metric": metric}


@st.composite
def song_refs(draw) -> dict:
    return {"uuid": draw(uuids), "name": draw(odd_text), "creditName": draw(maybe_empty), "imageUrl": draw(urls)}


@st.composite
def ranking_items(draw, song: dict, position: int, day: date) -> dict:
    entered = day - timedelta(days=draw(st.integers(0, 1500)))  # histories start long before the stored window
    return {"song": song, "position": position,
            "positionEvolution": draw(st.one_of(st.none(), st.integers(-200, 200))),
            "metric": draw(st.one_of(st.none(), big)), "entryState": draw(st.sampled_from(STATES)),
            "entryDate": draw(stamps(entered)), "rankDate": draw(stamps(draw(st.sampled_from([day, entered])))),
            "oldPosition": draw(st.one_of(st.none(), st.just(0), st.integers(1, 200))),
            "timeOnChart": draw(st.integers(0, 5000)), "timeOnChartUnit": draw(st.sampled_from(UNITS))}


@st.composite
def ranking_bodies(draw, today: date, slug: str = "prop-chart", platform: str = "spotify",
                   songs: list[dict] | None = None) -> list[dict]:
    """One to three rankings of one chart, oldest first, drawn from one pool of songs (so songs move, leave and
    come back); each may hold position-0 items (songs no longer in the chart)."""
    pool = songs or draw(st.lists(song_refs(), min_size=1, max_size=10, unique_by=lambda s: s["uuid"]))
    ago = sorted(draw(st.sets(st.integers(0, 20), min_size=1, max_size=3)), reverse=True)
    chart = draw(chart_objects(slug, platform))
    bodies = []
    for n in ago:
        day = today - timedelta(days=n)
        order = draw(st.permutations(pool))
        charted = draw(st.integers(0 if len(pool) > 1 else 1, len(order)))
        gone = draw(st.integers(0, len(order) - charted))
        placed = [(s, i + 1) for i, s in enumerate(order[:charted])] + [(s, 0) for s in order[charted:charted + gone]]
        items = [draw(ranking_items(s, p, day)) for s, p in placed]
        bodies.append({"related": {"chart": chart, "date": draw(stamps(day))}, "items": items,
                       "page": page(len(items)), "errors": []})
    return bodies


@st.composite
def artists(draw) -> dict:
    return {"uuid": draw(uuids), "slug": draw(st.one_of(st.none(), st.just("some-artist"))), "name": draw(odd_text),
            "appUrl": draw(urls), "imageUrl": draw(urls)}


audio = st.one_of(st.none(), st.fixed_dictionaries({
    **{k: st.floats(0, 1) for k in ("acousticness", "danceability", "energy", "instrumentalness", "liveness",
                                    "speechiness", "valence")},
    "loudness": st.floats(-60, 0), "tempo": st.floats(0, 250), "key": st.integers(-1, 11),
    "mode": st.integers(0, 1), "timeSignature": st.integers(0, 7)}))


@st.composite
def song_bodies(draw, uuid: str) -> dict:
    isrc = draw(st.one_of(st.none(), st.fixed_dictionaries({
        "value": st.one_of(st.just(""), st.from_regex(r"\A[A-Z]{2}[A-Z0-9]{3}[0-9]{7}\Z")),
        "countryCode": st.sampled_from(["", "US", "GB"]), "countryName": st.sampled_from(["", "United States"])})))
    released = draw(st.one_of(st.none(), st.dates(date(1950, 1, 1), date(2030, 12, 31)).flatmap(stamps)))
    genres = draw(st.lists(st.fixed_dictionaries({"root": odd_text, "sub": st.lists(odd_text, max_size=3)}),
                           max_size=3))
    labels = draw(st.lists(st.fixed_dictionaries({"name": odd_text, "type": st.sampled_from(["major", "indie"])}),
                           max_size=2))
    return {"type": "song", "object": {
        "uuid": uuid, "name": draw(odd_text), "isrc": isrc, "iswcs": [], "creditName": draw(maybe_empty),
        "artists": draw(st.lists(artists(), max_size=3, unique_by=lambda a: a["uuid"])), "releaseDate": released,
        "copyright": "", "appUrl": f"https://app.example/song/{uuid}", "imageUrl": draw(urls),
        "duration": draw(st.one_of(st.none(), st.integers(0, 4000))), "explicit": draw(st.booleans()),
        "genres": genres, "composers": draw(st.lists(odd_text, max_size=2)), "producers": [], "labels": labels,
        "audio": draw(audio)}, "errors": []}


@st.composite
def identifier_items(draw) -> dict:
    item = {"platformName": draw(odd_text), "platformCode": draw(st.sampled_from(PLATFORM_CODES)),
            "identifier": draw(st.one_of(st.from_regex(r"\A[0-9]{19}\Z"), st.from_regex(r"\A[A-Za-z0-9]{8,22}\Z"))),
            "url": draw(urls)}
    if draw(st.booleans()):  # absent from older bodies
        item["default"] = draw(st.booleans())
    return item


@st.composite
def identifier_bodies(draw, uuid: str) -> dict:
    items = draw(st.lists(identifier_items(), max_size=8, unique_by=lambda i: (i["platformCode"], i["identifier"])))
    return {"related": {"uuid": uuid, "name": "x", "creditName": ""}, "items": items, "page": page(len(items)),
            "errors": []}


@st.composite
def audience_bodies(draw, today: date) -> dict:
    """A series with missing days, null values and one to three identifiers, newest or oldest first."""
    ids = draw(st.lists(st.from_regex(r"\A[A-Za-z0-9]{6,22}\Z"), min_size=1, max_size=3, unique=True))
    days = sorted(draw(st.sets(st.integers(0, 120), max_size=40)))
    items = []
    for n in days:
        plots = [{"identifier": i, "value": draw(st.one_of(st.none(), big))}
                 for i in ids if draw(st.integers(0, 4))]  # an identifier may miss a day
        items.append({"date": draw(stamps(today - timedelta(days=n))), "plots": plots})
    if draw(st.booleans()):
        items.reverse()
    return {"related": {"uuid": "x", "name": "x", "creditName": ""}, "items": items, "page": page(len(items)),
            "errors": []}
