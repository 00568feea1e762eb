"""The synced demo warehouse plus the audience the lift needs, fetched from the local API by the real processor:
the lift end to end (checked against the server's own series), and the analyst notebooks on it under nbval."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import copy_db, local_client

from soundcharts_lib.db import make_engine
from soundcharts_lib.jobs.audience import AudienceDataProcessor
from soundcharts_lib.warehouse import lift

pytestmark = pytest.mark.slow  # papermill and nbval kernels

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = "spotify"


@pytest.fixture(scope="module")
def audience_url(synced_sqlite_url, localapi, tmp_path_factory):
    """A copy of the synced database with the spotify audience around every chart entry that lacked it."""
    url = copy_db(synced_sqlite_url, tmp_path_factory.mktemp("lift") / "with-audience.db")
    engine = make_engine(url)
    missing = lift.missing_audience(lift.entry_lift(engine, lift.entry_events(engine), PLATFORM))
    assert missing and len(missing["track_uuids"]) > 20
    with local_client(localapi) as client:
        result = AudienceDataProcessor(client, engine, progress=False).run(
            track_uuids=missing["track_uuids"], platforms=[PLATFORM], start=missing["start"], end=missing["end"])
    assert result.status == "success", result.errors
    engine.dispose()
    return url


def test_lift_end_to_end(audience_url, localapi):
    engine = make_engine(audience_url, read_only=True)
    result = lift.entry_lift(engine, lift.entry_events(engine), PLATFORM)
    engine.dispose()
    summary = lift.lift_summary(result)
    assert summary["tracks"] >= 5 and summary["entries"] >= summary["tracks"]
    assert summary["ci_low_pct"] < summary["lift_pct"] < summary["ci_high_pct"]
    assert summary["lift_pct"] > 0  # in the simulated catalog, songs enter charts while their audience climbs
    assert lift.missing_audience(result) is None or set(lift.missing_audience(result)["track_uuids"]) <= set(
        result.loc[result["status"] == "no audience", "uuid"])  # what is still missing, the API has not
    checked = 0
    for row in result[result["status"] == lift.OK].itertuples():
        first, last = lift.audience_window(row.entry_date)
        days = {day: dict(plots) for day, plots in localapi.catalog.series(row.uuid, PLATFORM, "audience")
                if first <= day <= last}
        window = [first + timedelta(days=k) for k in range((last - first).days + 1)]
        idents = set.intersection(*(set(days.get(d, {})) for d in window))
        if len(days) < len(window) or not idents:
            continue  # a gap the lift interpolated: checked in test_lift.py
        total = [sum(days[d][i] for i in idents) for d in window]
        assert row.before_per_day == pytest.approx((total[7] - total[0]) / 7, abs=0.06)
        assert row.after_per_day == pytest.approx((total[-1] - total[7]) / 7, abs=0.06)
        checked += 1
    assert checked >= 3


def test_analyst_notebooks_with_audience(audience_url):
    targets = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("notebooks/0[2-6]_*.ipynb"))
    assert len(targets) == 5
    env = dict(os.environ, SOUNDCHARTS_DB_URL=audience_url)
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider",
                          "-p", "no:playwright", *targets], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stdout[-4000:]
