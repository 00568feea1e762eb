"""Every artist and song-reach endpoint of the client (contract 7.1-8.5) fetched from the real local server over
loopback, in its untidy (default) and tidy catalogs, and parsed without error. The server was written from the same
contract without the client's code, so this is where two readings of the document meet."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from soundcharts_lib.api.client import SoundchartsClient
from soundcharts_lib.errors import Gone, NotFound
from soundcharts_lib.localapi import LocalApiConfig, running

TODAY = date(2025, 3, 14)
SONGS = 8  # songs of the latest global ranking looked at, and their artists


@pytest.fixture(scope="module", params=[False, True], ids=["untidy", "tidy"])
def srv(request):
    with running(LocalApiConfig(seed=7, today=TODAY, quota=1_000_000, tidy=request.param)) as server:
        yield server


@pytest.mark.slow
def test_every_artist_and_reach_endpoint_parses_from_the_local_server(srv):
    start, end = TODAY - timedelta(days=199), TODAY  # three windows: 90 + 90 + 20 days
    with SoundchartsClient(srv.base_url, "soundcharts", "soundcharts", rate_limit_per_minute=600_000) as c:
        slug = next(ch.slug for ch in c.charts_by_platform("spotify") if ch.country_code is None)
        songs = [c.song(e.song.uuid) for e in c.ranking_latest(slug).entries[:SONGS]]
        artists = list(dict.fromkeys(a.uuid for s in songs for a in s.artists))
        assert artists

        profiles = c.artists(artists)  # 7.1 batch
        assert sorted(p.uuid for p in profiles) == sorted(artists)  # every artist known, each once
        for uuid in artists:
            profile = c.artist(uuid)  # 7.1
            assert profile.uuid == uuid and profile.name
            songs_of = list(c.iter_artist_songs(uuid, sort_by="releaseDate", sort_order="desc"))  # 7.3
            assert songs_of and len({s.uuid for s in songs_of}) == len(songs_of)
            followers = c.artist_followers(uuid, "spotify", start, end)  # 7.4
            assert c.request_count and srv.stats()["by_path"][f"/api/v2/artist/{uuid}/audience/spotify"] >= 3
            listening = c.artist_listeners(uuid, "spotify", start, end)  # 7.5
            for series in (followers, listening):
                dates = [d.date for d in series.days]
                assert dates == sorted(set(dates)) and all(start <= d <= end for d in dates)
            for current_only in (True, False):  # 7.6
                entries = c.artist_chart_entries(uuid, "spotify", current_only=current_only)
                assert all(e.song is not None and e.chart.platform == "spotify" for e in entries)
        before = c.quota_remaining
        with pytest.raises(NotFound):  # 7.2: no endpoint of the contract tells an artist's platform ids
            c.artist_by_platform("spotify", "0000000000000000000000")
        assert c.quota_remaining == before  # a 404 of a by-platform lookup is not billed

        looked_up = 0
        for song in songs:
            assert c.song_chart_entries(song.uuid, "spotify")  # 8.1: it is on the chart it came from
            c.song_chart_entries(song.uuid, "spotify", current_only=False, sort_by="rankDate", sort_order="desc")
            if song.isrc:  # null for some songs, as the contract allows
                try:
                    assert c.song_by_isrc(song.isrc).uuid == song.uuid  # 8.2
                    looked_up += 1
                except Gone:  # blacklisted
                    pass
            spotify = c.song_identifiers(song.uuid, platform="spotify")[0].identifier
            assert c.song_by_platform("spotify", f"https://open.spotify.com/track/{spotify}").uuid == song.uuid  # 8.3
            points = c.song_popularity(song.uuid, "spotify", start, end)  # 8.4
            assert all(0 <= p.value <= 100 and start <= p.date <= end for p in points)
            playlists = c.song_playlists(song.uuid, "spotify")  # 8.5
            assert all(p.position >= 1 for p in playlists)
        assert looked_up
        with pytest.raises(NotFound):
            c.song_by_platform("spotify", "0000000000000000000000")
