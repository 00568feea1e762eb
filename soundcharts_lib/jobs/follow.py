"""Follow any song: resolve it by ISRC, Spotify link or id, or a platform identifier (contract 8.2, 8.3), store it
as a track with its metadata and identifiers, add it to the roster, and fetch its audience and its reach.

What is given is checked before any request (a malformed ISRC, Spotify link or identifier is a one-line
``BadValue``). The song is resolved and its identifiers fetched before the database is opened: a song the API does
not know (404) or an ISRC it blacklisted (410) is one line (:class:`SongNotFound`) and nothing is stored. A song
that never charted is followed like any other (its track page has no chart history, the rest is there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from soundcharts_lib import vocab
from soundcharts_lib.api.payloads import Song
from soundcharts_lib.config import Settings
from soundcharts_lib.curation import roster
from soundcharts_lib.db.store_tracks import store_song
from soundcharts_lib.errors import BadRequest, ConfigError, Gone, NotFound, SoundchartsError
from soundcharts_lib.jobs.audience import AudienceDataProcessor
from soundcharts_lib.jobs.params import Params, flag, param
from soundcharts_lib.jobs.reach import JOB as REACH_JOB
from soundcharts_lib.jobs.reach import ReachProcessor
from soundcharts_lib.jobs.result import RunResult
from soundcharts_lib.jobs.runtime import migrated_engine, require_credentials

BY = ("isrc", "spotify", "platform")  # how a song is named (the admin box's choices)


class SongNotFound(SoundchartsError, LookupError):
    """The API does not know the song (404) or refuses its ISRC (410): one line, nothing stored."""


@dataclass(frozen=True)
class FollowParams(Params):
    """A song named one way: ``isrc``, ``spotify`` (a track link, URI or id), or ``platform`` with ``id``."""

    JOB = "follow"
    isrc: str | None = param(vocab.isrc)
    spotify: str | None = param(vocab.spotify_track_id)
    platform: str | None = param(vocab.platform)
    id: str | None = param(vocab.platform_id)
    label: str | None = param(vocab.text)  # the roster's name for it (default: the song's name and credit)
    progress: bool = param(flag, True)  # progress bars

    def __post_init__(self):
        super().__post_init__()
        ways = [self.isrc is not None, self.spotify is not None, self.platform is not None or self.id is not None]
        if sum(ways) != 1:
            raise vocab.BadValue("name the song one way: an ISRC, a Spotify link or id, or a platform and an id")
        if (self.platform is None) != (self.id is None):
            raise vocab.BadValue("a platform identifier needs both the platform and the id")
        if self.platform == "spotify":  # a link or URI is reduced to its id, anything else refused here
            object.__setattr__(self, "id", vocab.checked("id", vocab.spotify_track_id, self.id))

    @property
    def named(self) -> str:
        """The song as given, for messages."""
        if self.isrc:
            return f"ISRC {self.isrc}"
        if self.spotify:
            return f"Spotify track {self.spotify}"
        return f"{self.platform} id {self.id}"

    @classmethod
    def given(cls, by: str, value: str, platform: str | None = None, **rest) -> FollowParams:
        """From a box's choice (one of :data:`BY`), its text and, for ``platform``, the platform code."""
        value = value.strip()
        if by == "isrc":
            return cls(isrc=value, **rest)
        if by == "spotify":
            return cls(spotify=value, **rest)
        if by == "platform":
            return cls(platform=(platform or "").strip() or None, id=value, **rest)
        raise vocab.BadValue(f"follow a song by one of {', '.join(BY)}, not {vocab.shown(by)}")


@dataclass(frozen=True)
class Followed:
    """A song followed: the track, whether the roster had it already, and the audience and reach runs."""

    song: Song
    added: bool
    identifiers: int
    runs: tuple[RunResult, ...]

    @property
    def ok(self) -> bool:
        return all(run.status == "success" for run in self.runs)

    def lines(self) -> list[str]:
        """What the command prints: the song, then each run's summary."""
        credit = f" by {self.song.credit_name}" if self.song.credit_name else ""
        state = "added to the roster" if self.added else "already on the roster"
        head = f"{self.song.name}{credit} ({self.song.uuid}): {state}, {self.identifiers} platform identifiers"
        return [head, *(f"{run.job}: {run.summary}" for run in self.runs)]

    def message(self) -> str:
        """One line for a page: the song, whether it was added, how its audience and reach went."""
        state = "followed" if self.added else "already on the roster:"
        credit = f" by {self.song.credit_name}" if self.song.credit_name else ""
        runs = "its audience and reach fetched" if self.ok else "its audience or reach partly failed (see the runs)"
        return f"{state} {self.song.name}{credit}; {runs}"


def resolve(client, params: FollowParams) -> Song:
    """The song ``params`` name; :class:`SongNotFound` for a 404 or a 410, ``ConfigError`` for a platform code
    the API refuses (400)."""
    try:
        if params.isrc:
            return client.song_by_isrc(params.isrc)
        if params.spotify:
            return client.song_by_platform("spotify", params.spotify)
        return client.song_by_platform(params.platform, params.id)
    except Gone as exc:
        hint = "; follow it by its Spotify link or another platform id" if params.isrc else ""
        raise SongNotFound(f"{params.named} is blacklisted by SoundCharts (HTTP 410: "
                           f"{exc.api_message or 'several DSP tracks match it'}){hint}; nothing stored") from None
    except NotFound as exc:
        raise SongNotFound(f"no song with {params.named} (HTTP 404: {exc.api_message or 'not found'}); "
                           f"nothing stored") from None
    except BadRequest as exc:
        raise ConfigError(f"{params.named}: the API refused it (HTTP 400: {exc.api_message or 'invalid'})") from None


def follow_song(settings: Settings, params: FollowParams | Mapping, *, actor: str | None = None) -> Followed:
    """Resolve, store and follow the song, then fetch its audience and reach (each a run of its own, recorded as
    started by ``settings.trigger``); ``actor`` is who the roster's audit event names."""
    from soundcharts_lib.api.client import SoundchartsClient

    params = FollowParams.of(params)
    require_credentials(settings)
    with SoundchartsClient.from_settings(settings) as client:
        song = resolve(client, params)
        identifiers = client.song_identifiers(song.uuid)
        engine = migrated_engine(settings)
        try:
            store_song(engine, song, identifiers)
            added = roster.add(engine, "track", song.uuid, params.label, actor=actor)["added"]
            options = {"trigger": settings.trigger, "progress": params.progress}
            audience = AudienceDataProcessor(client, engine, **options).run(track_uuids=[song.uuid])
            reach = ReachProcessor(client, engine, **options).run(track_uuids=[song.uuid])
        finally:
            engine.dispose()
    runs = (audience.run_result("fetch_audience"), reach.run_result(REACH_JOB))
    return Followed(song, added, len(identifiers), runs)


def follow_given(settings: Settings, by: str, value: str, platform: str | None = None, *,
                 actor: str | None = None) -> str:
    """The admin roster page's box: follow the song given ``by`` one of :data:`BY` (recorded as started by the
    admin area); its one-line :meth:`Followed.message`."""
    params = FollowParams.given(by, value, platform, progress=False)
    return follow_song(replace(settings, trigger="admin", job_notebook=""), params, actor=actor).message()
