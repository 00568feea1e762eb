"""Tables by name (exports.py) and `soundcharts export` as a user runs it (a real subprocess): the same bytes as the
dashboards' download links; bad input is one line and exit 2."""

from __future__ import annotations

import base64
import io
import os
import re
import subprocess
import sys
from datetime import date, timedelta

import ipywidgets as w
import openpyxl
import pandas as pd
import pytest
from conftest import copy_db
from sqlalchemy import insert, select

from soundcharts_lib.db import make_engine
from soundcharts_lib.db.models import Platform, Track, TrackAudience
from soundcharts_lib.ui.chart import ChartView
from soundcharts_lib.ui.overview import build_overview
from soundcharts_lib.warehouse import analytics, exports
from soundcharts_lib.warehouse import viewer_pages as viewer_data

# `soundcharts export` through cli.main, registering the subcommand when cli.py does not list it yet.
RUNNER = """import sys
from soundcharts_lib.cli import main as cli, export as cli_export
build = cli.build_parser
def wired():
    parser = build()
    sub = next(a for a in parser._actions if a.dest == "command")
    if "export" not in sub.choices:
        cli_export.register(sub)
    return parser
cli.build_parser = wired
sys.exit(cli.main())
"""
CHART = "spotify-top-200-us-daily"


@pytest.fixture(scope="module")
def db_url(synced_sqlite_url, tmp_path_factory) -> str:
    """The synced database plus 10 days of Spotify and YouTube audience for its most-charted track."""
    url = copy_db(synced_sqlite_url, tmp_path_factory.mktemp("exports") / "exports.db")
    engine = make_engine(url)
    top = analytics.top_tracks(engine, 30)["uuid"].iloc[0]
    with engine.begin() as conn:
        tid = conn.execute(select(Track.id).where(Track.uuid == top)).scalar_one()
        pids = dict(conn.execute(select(Platform.slug, Platform.id)).all())
        conn.execute(insert(TrackAudience), [
            {"track_id": tid, "platform_id": pids[slug], "platform_identifier": "x", "date": date(2026, 1, 1)
             + timedelta(days=i), "audience_value": base + 7 * i}
            for slug, base in (("spotify", 1000), ("youtube", 50)) for i in range(10)])
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def track(db_url) -> str:
    return analytics.top_tracks(make_engine(db_url, read_only=True), 30)["uuid"].iloc[0]


def soundcharts(*args, db_url: str, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, SOUNDCHARTS_DB_URL=db_url)
    return subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True, env=env, cwd=cwd,
                          timeout=120)


def params_for(table: str, track: str) -> exports.Params:
    page = exports.TABLES[table].page
    return {"overview": exports.Params(), "platform": exports.Params(platforms=("spotify",)),
            "chart": exports.Params(chart=CHART), "track": exports.Params(track_uuid=track)}[page]


def test_every_table_reads_from_its_page(db_url, track):
    engine = make_engine(db_url, read_only=True)
    for name in exports.TABLES:
        frame = exports.read_table(engine, name, params_for(name, track))
        assert isinstance(frame, pd.DataFrame) and len(frame.columns), name
        assert len(frame) or name in ("charts-attention", "failed-runs", "track-identifiers", "overview-alerts",
                                      "track-popularity", "track-charting-everywhere", "track-playlists"), name
    assert exports.read_table(engine, "audience", exports.Params(track_uuid=track))[
        ["spotify", "youtube"]].iloc[-1].tolist() == [1063, 113]


@pytest.mark.parametrize(("name", "params", "message"), [
    ("nope", exports.Params(), "no table 'nope'"),
    ("chart-ranking", exports.Params(), "chart-ranking needs --chart"),
    ("overview-tracks", exports.Params(chart=CHART), "overview-tracks does not take --chart"),
    ("platform-charts", exports.Params(platforms=("a", "b")), "exactly one --platform"),
    ("chart-ranking", exports.Params(chart="nope"), "no chart 'nope' is stored"),
    ("audience", exports.Params(track_uuid="00000000-0000-4000-8000-000000000000"), "no track"),
])
def test_bad_table_or_parameters(db_url, name, params, message):
    with pytest.raises(exports.ExportError, match=re.escape(message)):
        exports.read_table(make_engine(db_url, read_only=True), name, params)


def test_csv_and_xlsx_hold_the_same_values():
    frame = pd.DataFrame({"day": [date(2026, 1, 2), None], "n": pd.array([1, None], dtype="Int64"),
                          "counts": [{"a": 1}, ["x", "y"]], "name": ['a,"b"', "é"]})
    assert exports.to_csv(frame).decode() == ('day,n,counts,name\n2026-01-02,1,"{""a"": 1}","a,""b"""\n'
                                              ',,"[""x"", ""y""]",é\n')
    sheet = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(frame, "a-very-long-sheet-name-beyond-31-chars"))).active
    assert sheet.title == "a-very-long-sheet-name-beyond-3"
    got = [[c.value for c in row] for row in sheet.iter_rows()]
    assert got[0] == ["day", "n", "counts", "name"] and got[1][1:] == [1, '{"a": 1}', 'a,"b"']
    assert got[1][0].date() == date(2026, 1, 2) and got[2] == [None, None, '["x", "y"]', "é"]
    with pytest.raises(exports.ExportError, match="format must be one of csv, xlsx"):
        exports.render(frame, "json", "x")


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def downloads(widget, fmt: str = "csv") -> dict[str, bytes]:
    """``{table: bytes}`` of every download link in a built page."""
    html = "".join(n.value for n in _walk(widget) if isinstance(n, w.HTML))
    found = re.findall(rf'class="download-{fmt}" data-table="([^"]+)" download="[^"]+" '
                       rf'href="data:[^;]+;base64,([^"]+)"', html)
    return {table: base64.b64decode(body) for table, body in found}


@pytest.mark.slow
def test_the_command_writes_what_the_dashboards_offer(db_url, tmp_path):
    engine = make_engine(db_url, read_only=True)
    overview = downloads(build_overview(viewer_data.overview(engine)))
    assert {"platforms", "overview-tracks", "job-runs"} <= set(overview)
    chart = downloads(ChartView(lambda on: viewer_data.chart_page(engine, CHART, on)).render())
    assert set(chart) == {"chart-ranking", "chart-climbers", "chart-fallers", "chart-new-entries", "chart-dropouts"}
    for table, offered in [("overview-tracks", overview), ("platforms", overview), ("chart-ranking", chart),
                           ("chart-dropouts", chart)]:
        res = soundcharts("export", table, "--format", "csv", *(["--chart", CHART] if table in chart else []),
                          db_url=db_url)
        assert res.returncode == 0, res.stderr
        assert res.stdout == offered[table], table
    out = tmp_path / "ranking.xlsx"
    res = soundcharts("export", "chart-ranking", "--chart", CHART, "-o", str(out), db_url=db_url)
    assert res.returncode == 0 and res.stderr.decode().startswith("chart-ranking: 200 rows written to")
    excel = pd.read_excel(out)
    expected = exports.read_table(engine, "chart-ranking", exports.Params(chart=CHART))
    assert excel["uuid"].tolist() == expected["uuid"].tolist()
    assert excel["metric"].tolist() == expected["metric"].astype(int).tolist()
    # the API's figures and the stored-history ones are told apart, with the date stored history starts
    assert {"status", "status_from", "on_chart", "on_chart_unit", "entry_date", "stored_peak_position",
            "stored_peak_date", "stored_streak", "history_start"} <= set(excel.columns)
    assert set(excel["history_start"].astype(str).str[:10]) == {str(analytics.chart_dates(engine, CHART)[0])}


@pytest.mark.slow
def test_track_and_audience_tables_from_the_command(db_url, track, tmp_path):
    res = soundcharts("export", "audience", "--track-uuid", track, "--platform", "youtube", "--limit", "3",
                      "--start-date", "2026-01-02", db_url=db_url)
    assert res.returncode == 0, res.stderr
    assert res.stdout.decode().splitlines() == ["date,youtube", "2026-01-08,99", "2026-01-09,106", "2026-01-10,113"]
    res = soundcharts("export", "track-history", "--track-uuid", track.upper(), "--format", "xlsx", "-o",
                      "h.xlsx", db_url=db_url, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    history = pd.read_excel(tmp_path / "h.xlsx")
    assert len(history) == len(analytics.track_chart_history(make_engine(db_url, read_only=True), track))


@pytest.mark.parametrize(("args", "word"), [
    (["export", "nope"], "invalid choice"),
    (["export", "chart-ranking"], "chart-ranking needs --chart"),
    (["export", "chart-ranking", "--chart", "nope"], "no chart 'nope' is stored"),
    (["export", "chart-ranking", "--chart", CHART, "--date", "2026-02-30"], "not a date"),
    (["export", "overview-tracks", "--track-uuid", "00000000-0000-4000-8000-000000000000"], "does not take"),
    (["export", "track-history", "--track-uuid", "nope"], "not a SoundCharts UUID"),
    (["export", "overview-tracks", "--format", "xlsx"], "xlsx needs -o FILE"),
    (["export", "overview-tracks", "-o", "/nonexistent/dir/x.csv"], "cannot write /nonexistent/dir/x.csv"),
    (["export", "audience", "--track-uuid", "00000000-0000-4000-8000-000000000000", "--start-date", "2026-02-01",
      "--end-date", "2026-01-01"], "after"),
])
def test_bad_input_is_one_line_and_exit_2(db_url, args, word):
    res = soundcharts(*args, db_url=db_url)
    err = res.stderr.decode()
    assert res.returncode == 2, (res.stdout, err)
    assert len(err.strip().splitlines()) == 1 and word in err and "Traceback" not in err


def test_a_missing_database_is_one_line(tmp_path):
    """A reading command: exit 1 (not bad input: the database is not there yet), and none is created."""
    res = soundcharts("export", "platforms", db_url=f"sqlite:///{tmp_path / 'none.db'}")
    assert res.returncode == 1 and "database file not found" in res.stderr.decode()
    assert not (tmp_path / "none.db").exists()
