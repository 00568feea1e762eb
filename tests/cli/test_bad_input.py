"""Bad input, table-driven: CLI flags, configuration, hostile API bodies, endpoint parameters, dashboard links.

Each case gives one line a user can act on (stderr, a JSON ``error`` or the page's error state), the right exit
code or HTTP status, never a traceback, and writes nothing: no database created for a refused command, no data
row for a failed one (its failure is recorded on its run). The ``soundcharts`` cases run as real processes, all
at once; hostile bodies come from a small real HTTP server; the endpoints from the real ``serve`` server.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date as date_type
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from conftest import FAST, local_client
from reliability.test_snapshot import fresh_database, migrated
from sqlalchemy import create_engine, inspect, select, text

from soundcharts_lib.api.payloads import AudienceDay, AudiencePoint, Platform
from soundcharts_lib.db import store_audience
from soundcharts_lib.db.models import SyncRun
from soundcharts_lib.errors import PayloadError
from soundcharts_lib.jobs.audience import AudienceDataProcessor
from soundcharts_lib.jobs.sync import ChartSync
from soundcharts_lib.web.launch import free_port, start_voila, wait_ready

ROOT = Path(__file__).resolve().parents[2]
UUID = "00000000-0000-4000-8000-000000000001"
DATA_TABLES = ("platform", "chart", "track", "chart_ranking", "chart_ranking_entry", "track_audience")
DB_PASSWORD = "CANARY-db-pw-77a1"


# --- a small API that answers valid bodies, except for the one each hostile case breaks --------------------

DAY = "2025-03-14T00:00:00+00:00"
CHART = {"name": "Deezer Top 100 Global", "type": "top", "slug": "deezer-top-100-global-daily", "platform": "deezer",
         "frequency": "daily", "countryCode": None, "countryName": None, "cityName": None, "maxResultsCount": 100,
         "webUrl": None, "metric": None}


def page(items: list, **related) -> dict:
    return {**related, "items": items, "errors": [],
            "page": {"offset": 0, "limit": 100, "next": None, "previous": None, "total": len(items)}}


def entry(position, uuid: str = UUID, name: str = "A song", **extra) -> dict:
    return {"song": {"uuid": uuid, "name": name, "creditName": "Someone", "imageUrl": None}, "position": position,
            "positionEvolution": 0, "metric": 1000, "entryState": "SAME", "entryDate": DAY, "rankDate": DAY,
            "oldPosition": position, "timeOnChart": 3, "timeOnChartUnit": "day", **extra}


def ranking(items: list | None = None, date: str = DAY) -> dict:
    items = items if items is not None else [entry(i, uuid=UUID[:-1] + str(i)) for i in (1, 2, 3)]
    return page(items, related={"chart": CHART, "date": date})


def audience(plots: list) -> dict:
    return page([{"date": DAY, "plots": plots}], related={"uuid": UUID, "name": "A song", "creditName": None})


VALID = [
    (r"/api/v2/chart/song/platforms", lambda: page([{"code": "deezer", "name": "Deezer"}])),
    (r"/api/v2/referential/platforms/social", lambda: page([{"code": "spotify", "name": "Spotify"}])),
    (r"/api/v2/chart/song/by-platform/deezer", lambda: page([CHART])),
    (r"/api/v2/chart/song/[^/]+/available-rankings", lambda: page([DAY], related=CHART)),
    (r"/api/v2\.14/chart/song/[^/]+/ranking/.+", ranking),
    (r"/api/v2\.25/song/[^/]+", lambda: {"type": "song", "object": {"uuid": UUID, "name": "A song"}, "errors": []}),
    (r"/api/v2/song/[^/]+/audience/spotify", lambda: audience([{"identifier": "sp1", "value": 100}])),
]
NESTED = b"[" * 200_000 + b"]" * 200_000


def _loop_page() -> dict:
    body = page([DAY], related=CHART)
    body["page"]["next"] = f"/api/v2/chart/song/{CHART['slug']}/available-rankings?offset=0&limit=100"
    return body


HOSTILE_BODIES: dict[str, tuple[str, object]] = {  # case: (path it breaks, body: JSON-able, bytes or a callable)
    "platforms_not_an_object": (r"/api/v2/chart/song/platforms", [1, 2, 3]),
    "html_instead_of_json": (r"/api/v2\.14/chart/song/[^/]+/ranking/.+", b"<html><body>Bad gateway</body></html>"),
    "deeply_nested_json": (r"/api/v2\.14/chart/song/[^/]+/ranking/.+", NESTED),
    "position_not_a_number": (r"/api/v2\.14/chart/song/[^/]+/ranking/.+", ranking([entry("first")])),
    "song_without_uuid": (r"/api/v2\.14/chart/song/[^/]+/ranking/.+", ranking([entry(1, uuid="")])),
    "dates_not_strings": (r"/api/v2/chart/song/[^/]+/available-rankings", page([20250314], related=CHART)),
    "next_page_loops": (r"/api/v2/chart/song/[^/]+/available-rankings", _loop_page),
    "position_twice": (r"/api/v2\.14/chart/song/[^/]+/ranking/.+",
                       ranking([entry(1), entry(1, uuid=UUID[:-1] + "2"), entry(2, uuid=UUID[:-1] + "3")])),
    "other_date_than_asked": (r"/api/v2\.14/chart/song/[^/]+/ranking/.+", ranking(date="2025-03-13T00:00:00+00:00")),
    "name_too_long": (r"/api/v2\.14/chart/song/[^/]+/ranking/.+", ranking([entry(1, name="x" * 600)])),
    "nul_in_name": (r"/api/v2\.14/chart/song/[^/]+/ranking/.+", ranking([entry(1, name="A\u0000B")])),
    "metric_over_64_bits": (r"/api/v2\.14/chart/song/[^/]+/ranking/.+", ranking([entry(1, metric=2 ** 70)])),
    "position_over_32_bits": (r"/api/v2\.14/chart/song/[^/]+/ranking/.+", ranking([entry(2 ** 40)])),
    "chart_name_too_long": (r"/api/v2/chart/song/by-platform/deezer", page([{**CHART, "name": "n" * 600}])),
    "audience_value_not_a_number": (r"/api/v2/song/[^/]+/audience/spotify",
                                    audience([{"identifier": "sp1", "value": "many"}])),
    "audience_value_over_64_bits": (r"/api/v2/song/[^/]+/audience/spotify",
                                    audience([{"identifier": "sp1", "value": 2 ** 70}])),
    "audience_identifier_too_long": (r"/api/v2/song/[^/]+/audience/spotify",
                                     audience([{"identifier": "i" * 300, "value": 5}])),
}


@contextlib.contextmanager
def crafted_api(cases: dict[str, tuple[str, object] | list[tuple[str, object]]]) -> Iterator[str]:
    """A small real API on a free port: ``/<case>/api/...`` answers the case's body for a path its pattern
    matches (one pair or a list of them) and a valid body for every other path. A body is JSON-able, bytes, or
    a callable giving one."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            case, _, rest = self.path.lstrip("/").partition("/")
            path = "/" + rest.split("?")[0]
            crafted = cases.get(case, [])
            crafted = crafted if isinstance(crafted, list) else [crafted]
            body = next((make for pattern, make in crafted + VALID if re.fullmatch(pattern, path)), None)
            body = body() if callable(body) else body
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(404 if body is None else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def hostile_api():
    with crafted_api(HOSTILE_BODIES) as url:
        yield url


# --- the soundcharts command: flags, configuration and hostile bodies --------------------------------------

@dataclass(frozen=True)
class Cli:
    args: tuple[str, ...]
    code: int
    words: str
    env: dict = field(default_factory=dict)
    api: str = "local"  # "local", "hostile" (the case's own broken body) or "none"
    runs: bool = False  # a failed run is recorded (else: no database at all)
    schema_only: bool = False  # run-job migrates the database before its kernel starts: tables, no rows


SYNC_HOSTILE = ("sync-charts", "--platform", "deezer", "--date", "2025-03-14", "-q")
AUDIENCE_HOSTILE = ("fetch-audience", "--track-uuid", UUID, "--platform", "spotify", "--start-date", "2025-03-10",
                    "--end-date", "2025-03-14", "-q")
UNREACHABLE = {"SOUNDCHARTS_API_URL": "http://127.0.0.1:9", "SOUNDCHARTS_MAX_RETRIES": "1"}
NO_KEY = {"SOUNDCHARTS_APP_ID": "", "SOUNDCHARTS_API_KEY": ""}
CANARY_PG = f"postgresql://scw:{DB_PASSWORD}@127.0.0.1:9/nowhere"

CLI_CASES: dict[str, Cli] = {
    "sync_bad_date": Cli(("sync-charts", "--date", "2026-13-01"), 2, "not a date"),
    "sync_zero_days": Cli(("sync-charts", "--backfill-days", "0"), 2, "at least 1"),
    "sync_days_not_a_number": Cli(("sync-charts", "--backfill-days", "ten"), 2, "not a whole number"),
    "sync_sql_in_platform": Cli(("sync-charts", "--platform", "deezer;DROP TABLE chart"), 2, "not a slug"),
    "sync_quote_in_chart": Cli(("sync-charts", "--chart", "x' OR '1'='1"), 2, "not a slug"),
    "sync_country_3_letters": Cli(("sync-charts", "--country", "FRA"), 2, "2-letter"),
    "sync_date_and_backfill": Cli(("sync-charts", "--date", "2026-01-01", "--backfill-days", "3"), 2,
                                  "not allowed with"),
    "sync_reversed_range": Cli(("sync-charts", "--start-date", "2026-02-01", "--end-date", "2026-01-01"), 2,
                               "after"),
    "sync_half_range": Cli(("sync-charts", "--start-date", "2026-02-01"), 2, "go together"),
    "audience_bad_uuid": Cli(("fetch-audience", "--track-uuid", "not-a-uuid"), 2, "not a SoundCharts UUID"),
    "audience_limit_zero": Cli(("fetch-audience", "--limit", "0"), 2, "at least 1"),
    "audience_uuid_and_all": Cli(("fetch-audience", "--track-uuid", UUID, "--all-tracks"), 2, "not allowed with"),
    "audience_limit_and_uuid": Cli(("fetch-audience", "--track-uuid", UUID, "--limit", "3"), 2, "limit applies"),
    "audience_future_start": Cli(("fetch-audience", "--start-date", "2999-01-01"), 2, "after today"),
    "audience_reversed_range": Cli(("fetch-audience", "--start-date", "2025-02-01", "--end-date", "2025-01-01"),
                                   2, "after end date"),
    "audience_unknown_platform": Cli(("fetch-audience", "--platform", "nosuchplatform"), 2, "no song audience"),
    "metadata_bad_uuid": Cli(("fetch-metadata", "--track-uuid", "123"), 2, "not a SoundCharts UUID"),
    "job_unknown": Cli(("run-job", "no_such_job"), 2, "no such job"),
    "job_path_as_name": Cli(("run-job", "../../etc/passwd"), 2, "not a slug"),
    "job_bad_parameter": Cli(("run-job", "sync_charts", "-p", "date", "2026-02-30"), 1,
                             "date: not a date (YYYY-MM-DD)", schema_only=True),
    "serve_port_too_big": Cli(("serve", "--port", "70000"), 2, "port"),
    "unknown_command": Cli(("nope",), 2, "invalid choice"),
    # configuration
    "db_url_mysql": Cli(("sync-charts",), 2, "unsupported database", {"SOUNDCHARTS_DB_URL": "mysql://u@h/db"}),
    "db_url_garbage": Cli(("sync-charts",), 2, "not a database URL", {"SOUNDCHARTS_DB_URL": "::no url::"}),
    "db_unreachable": Cli(("sync-charts",), 2, "database", {"SOUNDCHARTS_DB_URL": CANARY_PG}),
    "db_folder_not_writable": Cli(("sync-charts",), 2, "cannot create the database folder",
                                  {"SOUNDCHARTS_DB_URL": "sqlite:////proc/scw/x.db"}),
    "no_credentials_sync": Cli(("sync-charts",), 2, "no SoundCharts credentials", NO_KEY),
    "no_credentials_audience": Cli(("fetch-audience",), 2, "no SoundCharts credentials", NO_KEY),
    "api_url_not_http": Cli(("sync-charts",), 2, "must start with http", {"SOUNDCHARTS_API_URL": "ftp://x"}),
    "rate_limit_not_a_number": Cli(("sync-charts",), 2, "whole number", {"SOUNDCHARTS_RATE_LIMIT": "fast"}),
    "timeout_zero": Cli(("sync-charts",), 2, "at least", {"SOUNDCHARTS_TIMEOUT": "0"}),
    "api_unreachable_sync": Cli(("sync-charts", "--platform", "deezer", "-q"), 1, "connection failed", UNREACHABLE,
                                api="none", runs=True),
    "api_unreachable_audience": Cli(("fetch-audience", "-q"), 1, "connection failed", UNREACHABLE, api="none"),
    "wrong_api_key": Cli(("sync-charts", "--platform", "deezer", "-q"), 1, "HTTP 401",
                         {"SOUNDCHARTS_API_KEY": "wrong"}, runs=True),
}
ON_POSTGRES = ("name_too_long", "nul_in_name", "position_over_32_bits", "chart_name_too_long",
               "audience_identifier_too_long")  # what SQLite would take and PostgreSQL refuses
HOSTILE_WORDS = {  # what the one line names
    "platforms_not_an_object": "body is not an object", "html_instead_of_json": "not valid JSON",
    "deeply_nested_json": "not valid JSON", "position_not_a_number": "position is not an integer",
    "song_without_uuid": "song.uuid missing", "dates_not_strings": "not a timestamp string",
    "next_page_loops": "page.next does not advance", "position_twice": "position 1 twice",
    "other_date_than_asked": "2025-03-13", "name_too_long": "name", "nul_in_name": "name",
    "metric_over_64_bits": "metric", "position_over_32_bits": "position", "chart_name_too_long": "name",
    "audience_value_not_a_number": "value is not an integer", "audience_value_over_64_bits": "value",
    "audience_identifier_too_long": "identifier",
}


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    db_url: str
    seconds: float


def _environment(case_name: str, case: Cli, db_url: str, local: str, hostile: str, runs: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUNDCHARTS_")}
    api = {"local": local, "hostile": f"{hostile}/{case_name}", "none": "http://127.0.0.1:9"}[case.api]
    env.update(SOUNDCHARTS_API_URL=api, SOUNDCHARTS_APP_ID="soundcharts", SOUNDCHARTS_API_KEY="soundcharts",
               SOUNDCHARTS_DB_URL=db_url, SOUNDCHARTS_CACHE_BACKEND="none", SOUNDCHARTS_RATE_LIMIT=str(FAST),
               SOUNDCHARTS_RUNS_DIR=str(runs), SOUNDCHARTS_MAX_RETRIES="1", SOUNDCHARTS_TIMEOUT="5",
               SOUNDCHARTS_LOG_FILE=str(runs / "soundcharts.log"))
    env.update(case.env)
    return env


def _run(args: tuple[str, ...], env: dict, db_url: str) -> Outcome:
    started = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "soundcharts_lib.cli", *args], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=240)
    return Outcome(res.returncode, res.stdout, res.stderr, env.get("SOUNDCHARTS_DB_URL", db_url),
                   time.monotonic() - started)


@pytest.fixture(scope="module")
def outcomes(localapi, hostile_api, tmp_path_factory) -> dict[str, Outcome]:
    """Every command case run as its own process, 4 at a time."""
    tmp = tmp_path_factory.mktemp("bad-input")
    todo: dict[str, tuple] = {}
    for name, case in CLI_CASES.items():
        db = f"sqlite:///{tmp / name}.db"
        todo[name] = (case.args, _environment(name, case, db, localapi.base_url, hostile_api, tmp / "runs"), db)
    with ThreadPoolExecutor(4) as pool:
        return dict(zip(todo, pool.map(lambda t: _run(*t), todo.values()), strict=True))


def data_rows(db_url: str) -> dict[str, int] | None:
    """Rows per data table, or None when the database was never created."""
    if db_url.startswith("sqlite") and not Path(db_url.removeprefix("sqlite:///")).exists():
        return None
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        tables = set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in DATA_TABLES + ("sync_run",)
                    if t in tables}
    finally:
        engine.dispose()


def one_line(outcome: Outcome) -> str:
    """The single line the user reads on stderr; fails on a traceback or on anything else there (the same failure
    again as a log record, a kernel's own log)."""
    assert "Traceback" not in outcome.stdout + outcome.stderr, outcome.stderr[-2000:]
    lines = [line for line in outcome.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, outcome.stderr[-2000:]
    return lines[0]


def recorded_failure(db_url: str) -> list[str]:
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            runs = conn.execute(select(SyncRun.status, SyncRun.errors)).all()
    finally:
        engine.dispose()
    assert len(runs) == 1 and runs[0].status == "failed", runs
    return runs[0].errors


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CLI_CASES))
def test_commands_and_configuration(outcomes, name):
    case, got = CLI_CASES[name], outcomes[name]
    line = one_line(got)
    assert got.code == case.code and case.words in line, (got.code, line)
    assert DB_PASSWORD not in got.stdout + got.stderr
    rows = data_rows(got.db_url) if got.db_url.startswith("sqlite") else None
    if case.runs:
        assert {t: n for t, n in rows.items() if t != "sync_run"} == dict.fromkeys(DATA_TABLES, 0)
        assert line.strip() in "\n".join(recorded_failure(got.db_url))
    elif case.schema_only:
        assert rows is None or not any(rows.values()), f"rows written: {rows}"
    else:
        assert rows is None, f"the database was created: {rows}"
    print(f"{name}: exit {got.code}, one line: {line.strip()[:100]!r}, written: nothing")


@pytest.mark.parametrize("name, backend", [
    *[(n, "sqlite") for n in HOSTILE_BODIES],
    *[pytest.param(n, "postgres", marks=pytest.mark.postgres) for n in HOSTILE_BODIES if n in ON_POSTGRES]])
def test_hostile_api_bodies(name, backend, hostile_api, monkeypatch, capfd, tmp_path):
    """Through ``cli.main`` in this process (the command's own code), so that each case costs no start-up."""
    from soundcharts_lib.cli import main as cli

    args = AUDIENCE_HOSTILE if name.startswith("audience") else SYNC_HOSTILE
    with fresh_database(f"{backend}://", tmp_path, name) as db_url:
        env = _environment(name, Cli(args, 1, "", api="hostile"), db_url, "", hostile_api, tmp_path / "runs")
        for key in [k for k in os.environ if k.startswith("SOUNDCHARTS_")]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            if key.startswith("SOUNDCHARTS_"):
                monkeypatch.setenv(key, value)
        root, before = logging.getLogger(), list(logging.getLogger().handlers)
        try:
            code = cli.main(list(args))
        finally:  # the handlers main() set up write to this test's captured stderr: they end with it
            for handler in [h for h in root.handlers if h not in before]:
                root.removeHandler(handler)
                handler.close()
        out, err = capfd.readouterr()
        line = one_line(Outcome(code, out, err, db_url, 0))
        assert code == 1 and HOSTILE_WORDS[name] in line, (code, line)
        rows = data_rows(db_url)
        assert rows["chart_ranking_entry"] == rows["track_audience"] == 0
        assert rows["track"] == (1 if name.startswith("audience") else 0)  # a song named by the user is kept
        with create_engine(db_url).connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM chart_ranking WHERE status = 'success'")).scalar() == 0
        assert line.strip() in recorded_failure(db_url)
    print(f"{name}[{backend}]: exit 1, one line: {line.strip()[:100]!r}, bad data written: none, "
          f"failure recorded: yes")


def _day(day: str, *plots: tuple[str, int]) -> AudienceDay:
    on = date_type.fromisoformat(day)
    return AudienceDay(date=on, date_raw=day, raw={"date": day},
                       plots=[AudiencePoint(date=on, identifier=i, value=v) for i, v in plots])


@pytest.mark.parametrize("plot, words", [(("sp1", 2 ** 63), "audience_value"), (("sp1", -(2 ** 63) - 1), "64 bits"),
                                         (("i" * 256, 5), "platform_identifier is longer than 255"),
                                         (("a\x00b", 5), "NUL")])
def test_audience_points_the_table_cannot_hold_fail_before_any_write(engine, plot, words):
    """A series with one point the table cannot hold writes nothing (no other day, no check) on both databases,
    and a stored series stays as it was."""
    track = store_audience.ensure_track(engine, UUID, "A song", None, None)
    platform = store_audience.audience_platform_ids(engine, [Platform(code="spotify", name="Spotify")])["spotify"]
    assert store_audience.store_points(engine, track, platform, [_day("2025-03-13", ("sp1", 2 ** 63 - 1))]) == 1
    before = {t: [tuple(r) for r in rows] for t, rows in _audience_tables(engine).items()}
    with pytest.raises(PayloadError, match=re.escape(words)) as failed:
        store_audience.store_points(engine, track, platform, [_day("2025-03-13", ("sp1", 7)),
                                                              _day("2025-03-14", ("sp1", 8), plot)])
    assert "2025-03-14" in str(failed.value) and "\n" not in str(failed.value)
    assert {t: [tuple(r) for r in rows] for t, rows in _audience_tables(engine).items()} == before
    print(f"{words}: refused before any write: {failed.value}"[:160])


def _audience_tables(engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2")).all() for t in ("track_audience",
                                                                                          "audience_check")}


# --- the JSON endpoints and the dashboards, on a small real database ---------------------------------------

@pytest.fixture(scope="module")
def served_db(localapi, tmp_path_factory) -> tuple[str, str]:
    """``(database URL, a track with audience)``: two days of Deezer charts and 90 days of one track's audience."""
    url = f"sqlite:///{tmp_path_factory.mktemp('served') / 'served.db'}"
    with migrated(url) as engine, local_client(localapi) as client:
        assert ChartSync(client, engine, progress=False).run(platforms=["deezer"], backfill_days=2).status == "success"
        with engine.connect() as conn:
            track = conn.execute(text("SELECT uuid FROM track ORDER BY id LIMIT 1")).scalar_one()
        assert AudienceDataProcessor(client, engine, progress=False).run(track_uuids=[track]).points > 0
    return url, track


def fingerprint(db_url: str) -> str:
    """The database file's bytes, hashed: unchanged means nothing was written."""
    return hashlib.sha256(Path(db_url.removeprefix("sqlite:///")).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def endpoints(served_db, tmp_path_factory) -> str:
    """The ``serve`` server (dashboards and JSON endpoints, database read-only) on a free port."""
    port = free_port()
    log = (tmp_path_factory.mktemp("serve") / "serve.log").open("w")
    proc = start_voila(port, env=dict(os.environ, SOUNDCHARTS_DB_URL=served_db[0]), log=log)
    try:
        yield wait_ready(proc, port)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


CHART_API = "/soundcharts/audience/chart"
NOBODY = "00000000-0000-4000-a000-000000000000"
ENDPOINT_CASES = {  # path ({track}: a stored track), status, words of the error
    "uuid_malformed": (f"{CHART_API}/not-a-uuid/", 400, "not a SoundCharts UUID"),
    "uuid_sql": (f"{CHART_API}/x'%20OR%20'1'='1/", 400, "not a SoundCharts UUID"),
    "platform_html": (f"{CHART_API}/{{track}}/%3Csvg%20onload=alert(1)%3E/", 400, "not a platform code"),
    "start_date_impossible": (f"{CHART_API}/{{track}}/spotify/?start_date=2025-02-30", 400, "start_date must be"),
    "end_date_script": (f"{CHART_API}/{{track}}/?end_date=%3Cscript%3Ealert(1)%3C%2Fscript%3E", 400,
                        "end_date must be"),
    "range_reversed": (f"{CHART_API}/{{track}}/?start_date=2025-03-02&end_date=2025-03-01", 400, "is after"),
    "limit_negative": (f"{CHART_API}/{{track}}/spotify/?limit=-5", 400, "limit must be"),
    "limit_sql": (f"{CHART_API}/{{track}}/spotify/?limit=5;DROP%20TABLE%20track", 400, "limit must be"),
    "limit_huge": (f"{CHART_API}/{{track}}/spotify/?limit=99999999999999999999", 400, "limit must be"),
    "track_unknown": (f"{CHART_API}/{NOBODY}/spotify/", 404, "no track"),
    "platform_without_audience": (f"{CHART_API}/{{track}}/deezer/", 404, "deezer"),
    "path_too_deep": (f"{CHART_API}/{{track}}/spotify/extra/", 404, "no such endpoint"),
}


@pytest.mark.parametrize("name", ENDPOINT_CASES)
def test_endpoint_parameters(name, endpoints, served_db):
    path, status, words = ENDPOINT_CASES[name]
    before = fingerprint(served_db[0])
    resp = requests.get(endpoints + path.replace("{track}", served_db[1]), timeout=30)
    assert resp.status_code == status and resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert list(body) == ["error"] and words in body["error"] and "\n" not in body["error"], body
    assert "Traceback" not in resp.text and fingerprint(served_db[0]) == before
    print(f"{name}: HTTP {status}, one line: {body['error'][:90]!r}, written: nothing")


def widgets(root) -> list:
    """``root`` and every widget under it."""
    out = [root]
    for child in getattr(root, "children", ()):
        out.extend(widgets(child))
    return out


def render_dashboard(notebook: str, query: str, db_url: str, monkeypatch) -> list:
    """Run the dashboard's code cells as Voila's kernel does for ``notebook?query``; its page's widgets."""
    monkeypatch.setenv("QUERY_STRING", query)
    monkeypatch.setenv("SOUNDCHARTS_DB_URL", db_url)
    monkeypatch.setenv("SOUNDCHARTS_DB_READONLY", "1")
    cells = json.loads((ROOT / "dashboards" / notebook).read_text())["cells"]
    namespace: dict = {}
    for cell in cells:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), notebook, "exec"), namespace)  # noqa: S102 - our own notebook
    return widgets(namespace["page"].widget)


MARKUP = re.compile(r"<(script|img|svg)\b", re.IGNORECASE)  # what the hostile values below would inject
DASHBOARD_CASES = {  # notebook, query string ({track}, {chart}: stored ones), state, words of the message
    "track_without_uuid": ("track.ipynb", "", "error-state", "the link has no uuid"),
    "track_uuid_script": ("track.ipynb", "uuid=%3Cscript%3Ealert(1)%3C/script%3E", "error-state",
                          "not a SoundCharts UUID"),
    "track_unknown": ("track.ipynb", f"uuid={NOBODY}", "notfound-state", NOBODY),
    "track_limit_not_a_number": ("track.ipynb", "uuid={track}&limit=ten", "error-state", "limit must be"),
    "track_range_reversed": ("track.ipynb", "uuid={track}&start=2025-03-02&end=2025-03-01", "error-state",
                             "is after end"),
    "chart_slug_sql": ("chart.ipynb", "slug=x'%20OR%201=1%20--", "error-state", "slug must be a code"),
    "chart_date_impossible": ("chart.ipynb", "slug={chart}&date=2025-02-30", "error-state", "date must be"),
    "platform_slug_html": ("platform.ipynb", "slug=%3Cimg%20src=x%20onerror=alert(1)%3E", "error-state",
                           "slug must be a code"),
    "overview_refresh_too_fast": ("overview.ipynb", "refresh=1", "error-state", "refresh must be"),
    "query_too_long": ("overview.ipynb", "theme=" + "x" * 5000, "error-state", "longer than 4000"),
}


@pytest.mark.parametrize("name", DASHBOARD_CASES)
def test_dashboard_query_strings(name, served_db, monkeypatch):
    notebook, query, state, words = DASHBOARD_CASES[name]
    db_url, track = served_db
    with create_engine(db_url).connect() as conn:
        chart = conn.execute(text("SELECT slug FROM chart ORDER BY id LIMIT 1")).scalar_one()
    before = fingerprint(db_url)
    shown = render_dashboard(notebook, query.format(track=track, chart=chart), db_url, monkeypatch)
    states = [w for w in shown if {"error-state", "notfound-state", "loading-state"} & set(w._dom_classes)]
    assert len(states) == 1 and state in states[0]._dom_classes, [s._dom_classes for s in states]
    message = re.sub(r"<[^>]+>", "", states[0].value)
    assert words in html.unescape(message) and "\n" not in message.strip() and "Traceback" not in message
    assert not [w.value for w in shown if MARKUP.search(str(getattr(w, "value", "")))], \
        "a query value reached the page as markup"
    assert fingerprint(db_url) == before
    print(f"{name}: {state}, one line: {html.unescape(message).strip()[:90]!r}, written: nothing")
