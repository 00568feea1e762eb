"""The artist deep dive (notebooks/07) on the synced demo warehouse plus its busiest tracks' artists, their followers
and monthly listeners fetched from the local API by the real artists job: under nbval, and what its cells show
checked against the warehouse. (On a warehouse without artists it runs in test_notebooks.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_db, local_client

from soundcharts_lib.db import make_engine
from soundcharts_lib.jobs.artists import ArtistDataProcessor
from soundcharts_lib.jobs.metadata import store_metadata
from soundcharts_lib.warehouse import analytics, artist_series

pytestmark = pytest.mark.slow  # papermill and nbval kernels

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "notebooks/07_artist_deep_dive.ipynb"


@pytest.fixture(scope="module")
def artists_url(synced_sqlite_url, localapi, tmp_path_factory) -> str:
    """A copy of the synced database with the metadata (so the artists) of its 20 busiest tracks and 10 artists'
    followers and listeners."""
    url = copy_db(synced_sqlite_url, tmp_path_factory.mktemp("artist-notebook") / "artists.db")
    engine = make_engine(url)
    with local_client(localapi) as client:
        store_metadata(client, engine, analytics.top_tracks(engine, days=30, limit=20)["uuid"].tolist(),
                       progress=False)
        result = ArtistDataProcessor(client, engine, progress=False).run(limit=10)
    engine.dispose()
    assert result.status == "success" and result.points > 500, result.errors
    return url


def _run(args: list[str], url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=dict(os.environ, SOUNDCHARTS_DB_URL=url),
                          capture_output=True, text=True, timeout=600)


def test_the_artist_notebook_runs_under_nbval(artists_url):
    res = _run(["pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider", "-p", "no:playwright", NOTEBOOK],
               artists_url)
    assert res.returncode == 0 and " passed" in res.stdout, res.stdout[-4000:]


def test_it_shows_the_busiest_artist_from_the_warehouse(artists_url, tmp_path):
    out = tmp_path / "07.ipynb"
    res = _run(["papermill", "--log-level", "WARNING", NOTEBOOK, str(out), "-p", "peers", "2"], artists_url)
    assert res.returncode == 0, res.stderr[-3000:]
    shown = {cell["id"]: "".join("".join(o.get("data", {}).get("text/plain", o.get("text", "")))
                                 for o in cell.get("outputs", []))
             for cell in json.loads(out.read_text())["cells"] if cell["cell_type"] == "code"}
    engine = make_engine(artists_url, read_only=True)
    top = artist_series.top_artists(engine, days=30, limit=1).iloc[0]
    info = artist_series.artist_info(engine, top["uuid"])
    tracks = artist_series.tracks(engine, info["id"])
    held = artist_series.platforms(engine, info["id"])
    engine.dispose()
    assert "No artist is stored" not in "".join(shown.values())
    assert repr(top["uuid"]) in shown["c02"] and repr(info["name"]) in shown["c02"]
    assert tracks["name"].iloc[0][:15] in shown["c04"] and "Figure" in shown["c06"]
    assert held["followers"] and all(f"followers · {slug}" in shown["c08"] for slug in held["followers"])
    assert info["name"][:15] in shown["c11"] and "Tracks stored" in shown["c11"]
