"""``soundcharts roster``, ``alerts`` and ``annotations`` through the real command (``cli.main``)."""

from __future__ import annotations

import getpass
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import insert, select

from soundcharts_lib import vocab
from soundcharts_lib.cli import main as cli
from soundcharts_lib.curation import alerts
from soundcharts_lib.db.models import Artist, AuditEvent, Chart, Platform, Track, TrackArtist

TRACK = "11111111-2222-3333-4444-555555555555"
ARTIST = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
UNKNOWN = "99999999-8888-7777-6666-555555555555"


@pytest.fixture
def soundcharts(engine, db_url, monkeypatch, capsys):
    """``soundcharts ARGS...`` on a fresh database holding one track by one artist and one stale chart:
    ``(exit code, stdout, stderr)``."""
    with engine.begin() as conn:
        conn.execute(insert(Platform).values(id=1, slug="spotify", name="Spotify"))
        conn.execute(insert(Track).values(id=1, uuid=TRACK, name="Song", credit_name="Band"))
        conn.execute(insert(Artist).values(id=1, uuid=ARTIST, name="Band"))
        conn.execute(insert(TrackArtist).values(track_id=1, artist_id=1))
        conn.execute(insert(Chart).values(id=1, slug="old", name="Old Chart", platform_id=1, frequency="daily",
                                          last_ranking_date=date(2020, 1, 1), is_active=True))
    monkeypatch.setenv("SOUNDCHARTS_DB_URL", db_url)

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:  # argparse errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_roster(soundcharts, engine):
    assert soundcharts("roster", "list") == (0, "the roster is empty: soundcharts roster add --track UUID\n", "")
    assert soundcharts("roster", "add", "--track", TRACK.upper())[:2] == (0, f"added track {TRACK} Song - Band\n")
    assert soundcharts("roster", "add", "--track", TRACK)[1] == f"already on the roster: track {TRACK} Song - Band\n"
    assert soundcharts("roster", "add", "--artist", ARTIST)[0] == 0
    code, out, _ = soundcharts("roster", "add", "--artist", UNKNOWN, "--label", "Signed next week")
    assert out == f"added artist {UNKNOWN} Signed next week (not stored yet: it counts once a sync stores it)\n"
    code, out, _ = soundcharts("roster", "list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert lines[0].startswith(f"track   {TRACK}  Song - Band") and lines[0].endswith("stored")
    assert lines[1].startswith(f"artist  {ARTIST}  Band") and lines[1].endswith("1 stored tracks")
    assert lines[2].startswith(f"artist  {UNKNOWN}  Signed next week") and lines[2].endswith("0 stored tracks")
    assert soundcharts("roster", "remove", "--artist", UNKNOWN) == (0, f"removed artist {UNKNOWN}\n", "")
    with engine.connect() as conn:
        actors = set(conn.execute(select(AuditEvent.actor)).scalars())
    assert actors == {f"cli:{getpass.getuser()}"}


@pytest.mark.parametrize(("argv", "message"), [
    (["roster", "add", "--track", "nope"], "soundcharts roster add: error: argument --track: not a SoundCharts "
                                           "UUID: 'nope'"),
    (["roster", "add"], "soundcharts roster add: error: one of the arguments --track --artist is required"),
    (["roster", "add", "--track", TRACK, "--artist", ARTIST], "not allowed with argument"),
    (["roster", "remove", "--track", UNKNOWN], f"soundcharts roster: error: track {UNKNOWN} is not on the roster"),
    (["alerts", "rules", "add", "x", "--kind", "top_entry"], "soundcharts alerts: error: top_entry needs n"),
    (["alerts", "rules", "add", "x", "--kind", "nope"], "argument --kind: invalid choice: 'nope'"),
    (["alerts", "rules", "add", "x", "--kind", "audience_growth", "--pct", "many"], "not a finite number: 'many'"),
    (["alerts", "rules", "add", "x", "--kind", "chart_stale", "--webhook", "ftp://h/SECRET"],
     "soundcharts alerts: error: webhook must be an http:// or https:// URL"),
    (["alerts", "rules", "remove", "x"], "soundcharts alerts: error: no alert rule named 'x'"),
    (["annotations", "add", "--track", UNKNOWN, "--date", "2026-01-01", "--text", "x"],
     f"soundcharts annotations: error: no track {UNKNOWN} is stored"),
    (["annotations", "add", "--track", TRACK, "--date", "2026-13-01", "--text", "x"], "not a date (YYYY-MM-DD)"),
    (["annotations", "remove", "7"], "soundcharts annotations: error: no annotation 7"),
])
def test_bad_input_is_one_line_and_exit_2(soundcharts, argv, message):
    code, out, err = soundcharts(*argv)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "SECRET" not in err


def test_alert_rules_evaluate_and_list(soundcharts):
    token = "hook-T0KEN"
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{token}"
        assert soundcharts("alerts", "rules", "add", "stale", "--kind", "chart_stale", "--webhook", url)[:2] == (
            0, "rule 1 'stale' added (chart_stale)\n")
        assert soundcharts("alerts", "rules", "add", "top", "--kind", "top_entry", "--top", "10", "--chart", "old",
                           "--roster-only", "--disabled")[0] == 0
        code, out, _ = soundcharts("alerts", "rules", "list")
        assert code == 0 and token not in out
        assert out.splitlines() == [
            f"stale: chart_stale() -> http://127.0.0.1:{server.server_port}/…; 0 alerts",
            "top: top_entry(n=10, chart=old) roster only (disabled); 0 alerts"]
        code, out, err = soundcharts("alerts", "evaluate")
        assert (code, err) == (0, "")
        assert out == ("1 new alerts from 1 rules\n  stale: Chart stale: Old Chart\n"
                       "webhooks: 1 delivered, 0 failed, 0 waiting\n")
        assert len(received) == 1 and b"Old Chart" in received[0]
        assert soundcharts("alerts", "evaluate", "--no-deliver")[1] == "0 new alerts from 1 rules\n"
        code, out, _ = soundcharts("alerts", "list")
        assert code == 0 and out.endswith(" stale: Old Chart (old, spotify) has no ranking newer than 2020-01-01 "
                                          "(0 failed syncs in a row). [delivered]\n")
        assert soundcharts("alerts", "rules", "remove", "stale")[1] == "rule 'stale' removed\n"
        assert soundcharts("alerts", "list")[1] == "no alerts in the last 7 days\n"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_evaluate_exits_1_when_a_delivery_fails(soundcharts):
    from soundcharts_lib.web.launch import free_port

    soundcharts("alerts", "rules", "add", "stale", "--kind", "chart_stale", "--webhook",
                f"http://127.0.0.1:{free_port()}/x")
    code, out, _ = soundcharts("alerts", "evaluate")
    assert code == 1 and out.endswith("webhooks: 0 delivered, 1 failed, 0 waiting\n")


def test_annotations(soundcharts):
    assert soundcharts("annotations", "list", "--track", TRACK)[1] == f"no annotations on {TRACK}\n"
    code, out, _ = soundcharts("annotations", "add", "--track", TRACK, "--date", "2026-03-01", "--kind", "release",
                               "--text", "Single out")
    assert (code, out) == (0, f"annotation 1 added to {TRACK} on 2026-03-01\n")
    assert soundcharts("annotations", "list", "--track", TRACK)[1] == "    1  2026-03-01  release    Single out\n"
    assert soundcharts("annotations", "remove", "1") == (0, "annotation 1 removed\n", "")


def test_alert_kinds_match_the_library():
    assert vocab.ALERT_KINDS == alerts.KINDS
