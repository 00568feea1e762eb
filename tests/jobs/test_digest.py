"""The roster digest as a user runs it: ``soundcharts digest`` on a warehouse built from the local API (charts,
a roster, its audience and artists, alerts of yesterday), delivered to a real SMTP server (aiosmtpd, with a login) and
a real HTTP webhook on 127.0.0.1, and checked as they received it: the subject, the links to the pages, the figure
inline, the leaders' growth against this test's own arithmetic. An unreachable server is exit 1 in one line and the
next run sends the digest exactly once; a webhook's URL and the SMTP password are stored, logged and shown nowhere;
``--dry-run`` writes the HTML and sends and stores nothing. The same on PostgreSQL."""

from __future__ import annotations

import email
import hashlib
import json
import socket
import struct
import threading
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cli.test_maintenance_cli import one_line_error, soundcharts
from conftest import copy_db, local_client, sql
from sqlalchemy import text

from soundcharts_lib.curation import alerts, roster
from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.jobs.artists import ArtistDataProcessor
from soundcharts_lib.jobs.audience import AudienceDataProcessor
from soundcharts_lib.jobs.metadata import store_metadata
from soundcharts_lib.jobs.sync import ChartSync
from soundcharts_lib.localapi import LocalApiConfig, running
from soundcharts_lib.vocab import today_utc
from soundcharts_lib.warehouse.analytics import top_tracks

PUBLIC = "https://charts.label.example"
SENDER = "digest@label.example"
LOGIN, PASSWORD = "digest-bot", "CANARY-smtp-password-41c7"
TOKEN = "CANARY-webhook-token-9d2e"  # in the webhook's path, as Slack's are: a secret
CID = "growth@soundcharts-digest"
YESTERDAY = today_utc() - timedelta(days=1)


def build(url: str) -> None:
    """3 days of every chart of the local API (seed 1), the 4 most-charted tracks followed with their metadata,
    20 days of their audience and their artists' followers, and a growth rule's alerts as fired yesterday."""
    engine = make_engine(url)
    upgrade(engine)
    with running(LocalApiConfig(seed=1)) as srv, local_client(srv) as client:
        ChartSync(client, engine, progress=False).run(backfill_days=3)
        for uuid in top_tracks(engine, 3, limit=4)["uuid"]:
            roster.add(engine, "track", uuid, actor="test")
        uuids = roster.roster_track_uuids(engine)
        store_metadata(client, engine, uuids, missing_only=False, progress=False)
        start = today_utc() - timedelta(days=20)
        AudienceDataProcessor(client, engine, progress=False).run(track_uuids=uuids, start=start)
        ArtistDataProcessor(client, engine, progress=False).run(roster_only=True, start=start)
    alerts.add_rule(engine, "grew", "audience_growth", {"pct": 0.1, "days": 1}, roster_only=True)
    assert alerts.evaluate(engine).fired
    with engine.begin() as conn:  # as if the rule had fired yesterday at noon
        conn.execute(text("UPDATE alert SET fired_at = :at"), {"at": datetime.combine(YESTERDAY, time(12))})
    engine.dispose()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('digest') / 'built.db'}"
    build(url)
    return url


@pytest.fixture
def db(built, tmp_path) -> str:
    return copy_db(built, tmp_path / "digest.db")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the SMTP server accepted: (from, recipients, message) each."""

    def __init__(self):
        self.received: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.original_content, policy=policy.default)))
        return "250 Message accepted for delivery"


def _login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=(auth_data.login, auth_data.password) == (LOGIN.encode(), PASSWORD.encode()))


@contextmanager
def smtp_server(port: int | None = None):
    """A real SMTP server on 127.0.0.1 that wants a login (plain connection, as a relay on the same host)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port(), authenticator=_login,
                            auth_required=True, auth_require_tls=False)  # (it warns: a test server on loopback)
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append((self.path, dict(self.headers), json.loads(body)))
        self.send_response(self.server.answer)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def webhook_server():
    """A real HTTP receiver on 127.0.0.1: ``posts`` (path, headers, JSON body); it answers ``answer``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    server.posts, server.answer = [], 200
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def env(db: str, tmp_path, port: int | None = None) -> dict:
    return {"SOUNDCHARTS_DB_URL": db, "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs"),
            "SOUNDCHARTS_LOG_FILE": str(tmp_path / "soundcharts.log"), "SOUNDCHARTS_PUBLIC_URL": PUBLIC,
            "SOUNDCHARTS_SMTP_HOST": "127.0.0.1", "SOUNDCHARTS_SMTP_PORT": str(port or free_port()),
            "SOUNDCHARTS_SMTP_SECURITY": "off", "SOUNDCHARTS_SMTP_USER": LOGIN, "SOUNDCHARTS_SMTP_PASSWORD": PASSWORD,
            "SOUNDCHARTS_SMTP_FROM": SENDER}


def parts(message) -> tuple[str, str, list]:
    """The plain text, the HTML, and the inline images (content id, type, bytes) of a received digest."""
    plain = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    images = [(p["Content-ID"], p.get_content_type(), p.get_content()) for p in message.walk()
              if p.get_content_maintype() == "image"]
    return plain, page, images


def leaders(db: str) -> list[tuple[float, str, str]]:
    """This test's own arithmetic: each roster track's growth per platform yesterday, in %, from its last stored day
    up to yesterday against the last stored day before it, identifiers on both days summed; best first."""
    rows = sql(db, "SELECT t.uuid, p.slug, a.platform_identifier, a.date, a.audience_value FROM track_audience a "
                   "JOIN track t ON t.id = a.track_id JOIN platform p ON p.id = a.platform_id JOIN watch_item w "
                   "ON w.uuid = t.uuid AND w.kind = 'track' WHERE a.date <= ?", YESTERDAY.isoformat())
    series = defaultdict(dict)
    for uuid, platform, ident, day, value in rows:
        series[(uuid, platform)].setdefault(day, {})[ident] = value
    out = []
    for (uuid, platform), days in series.items():
        last = max(days)
        before = [d for d in days if d <= (datetime.fromisoformat(last) - timedelta(days=1)).date().isoformat()]
        if before:
            both = set(days[last]) & set(days[max(before)])
            base, latest = sum(days[max(before)][i] for i in both), sum(days[last][i] for i in both)
            if base > 0:
                out.append((round((latest - base) / base * 100, 2), uuid, platform))
    return sorted(out, reverse=True)


def test_the_digest_arrives_by_mail_with_its_links_and_figure_once(db, tmp_path):
    with smtp_server() as (inbox, port):
        run = soundcharts("digest", "--to", "ar@label.example", "--to", "ceo@label.example",
                          env=env(db, tmp_path, port))
        assert run.returncode == 0 and run.stderr == "", run.stderr
        assert run.stdout.startswith(f"success: digest of {YESTERDAY} (rendered: ")
        assert run.stdout.rstrip().endswith("2 sent, 0 already sent, 0 kept for the next run")
        assert sorted(r for _, rcpt, _ in inbox.received for r in rcpt) == ["ar@label.example", "ceo@label.example"]

        sender, _, message = inbox.received[0]
        assert sender == SENDER and message["From"] == SENDER
        [(subject, page_html)] = sql(db, "SELECT subject, html FROM digest")
        # (a subject longer than a line is folded after "Subject:", and Python's parser keeps the fold's space)
        assert message["Subject"].strip() == subject and subject.startswith(f"Roster digest {YESTERDAY}: ")
        plain, page, images = parts(message)
        assert page == page_html.replace("\r\n", "\n") or page.strip() == page_html.strip()

        # links to the pages, under the public address
        followed = [u for (u,) in sql(db, "SELECT uuid FROM watch_item WHERE kind = 'track'")]
        best = leaders(db)
        assert best, "the roster's audience grew"
        for _, uuid, _ in best[:10]:
            assert f'href="{PUBLIC}/voila/render/track.ipynb?uuid={uuid}"' in page and uuid in followed
        assert f'href="{PUBLIC}/voila/render/overview.ipynb?roster=1"' in page
        counts = json.loads(sql(db, "SELECT summary FROM digest")[0][0])["counts"]
        chart_links = [a for a in page.split('href="')[1:] if a.startswith(f"{PUBLIC}/voila/render/chart.ipynb?slug=")]
        assert len(chart_links) == counts["entries"] + counts["exits"] + counts["moves"] > 0
        assert all(f"&amp;date={YESTERDAY}" in link for link in chart_links)  # each chart on the day of the change
        assert counts["tracks"] == len(followed) == 4 and counts["alerts"] > 0
        with_followers = sql(db, "SELECT DISTINCT a.uuid FROM artist a JOIN artist_audience f ON f.artist_id = a.id")
        assert counts["followers"] > 0 and [u for (u,) in with_followers
                                            if f'href="{PUBLIC}/voila/render/artist.ipynb?uuid={u}"' in page]

        # the leaders as this test counts them: the first one's growth is the first row's
        pct, uuid, platform = best[0]
        first = next(line for line in plain.splitlines() if line.startswith("  1 · "))
        assert f"· {platform} ·" in first and f"{pct:+.2f}%" in first and uuid in first

        # the figure, inline: a PNG with a bar a leader, referenced by its content id
        [(cid, kind, png)] = images
        assert cid == f"<{CID}>" and kind == "image/png" and f'src="cid:{CID}"' in page
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        bars = min(len(best), 10)
        assert (width, height) == (560, 2 * 12 + bars * 22 + (bars - 1) * 8)

        # a second run sends nothing again
        again = soundcharts("digest", "--to", "ar@label.example", "--to", "ceo@label.example",
                            env=env(db, tmp_path, port))
        assert again.returncode == 0 and "(as stored: " in again.stdout
        assert again.stdout.rstrip().endswith("0 sent, 2 already sent, 0 kept for the next run")
        assert len(inbox.received) == 2
    assert sql(db, "SELECT target, attempts, sent_at IS NOT NULL FROM digest_delivery ORDER BY target") == [
        ("ar@label.example", 1, 1), ("ceo@label.example", 1, 1)]
    # the password: used to log in, and nowhere else
    stored = (tmp_path / "digest.db").read_bytes() + (tmp_path / "soundcharts.log").read_bytes()
    assert PASSWORD.encode() not in stored and PASSWORD not in run.stdout + again.stdout


def test_an_unreachable_smtp_server_is_exit_1_in_one_line_and_the_next_run_sends_it_once(db, tmp_path):
    port = free_port()  # nothing listens there yet
    failed = soundcharts("digest", "--to", "ar@label.example", env=env(db, tmp_path, port))
    one_line_error(failed, 1, f"mail: cannot reach the SMTP server 127.0.0.1:{port} (ConnectionRefusedError")
    assert "1 deliveries kept for the next run" in failed.stderr and "0 sent" in failed.stdout
    [(sent, attempts, error)] = sql(db, "SELECT sent_at, attempts, last_error FROM digest_delivery")
    assert sent is None and attempts == 1 and f"127.0.0.1:{port}" in error
    assert sql(db, "SELECT status FROM sync_run WHERE kind = 'digest'") == [("failed",)]
    with smtp_server(port) as (inbox, _):
        resent = soundcharts("digest", "--to", "ar@label.example", env=env(db, tmp_path, port))
        assert resent.returncode == 0, resent.stderr
        assert resent.stdout.rstrip().endswith("1 sent, 0 already sent, 0 kept for the next run")
        assert "(as stored: " in resent.stdout  # the digest rendered by the failed run
        third = soundcharts("digest", "--to", "ar@label.example", env=env(db, tmp_path, port))
        assert third.returncode == 0 and "0 sent, 1 already sent" in third.stdout
        assert [rcpt for _, rcpt, _ in inbox.received] == [["ar@label.example"]]
    assert sql(db, "SELECT attempts, sent_at IS NOT NULL, last_error FROM digest_delivery") == [(2, 1, None)]


def test_a_pending_digest_of_an_earlier_period_is_sent_with_the_next_one(db, tmp_path):
    failed = soundcharts("digest", "--to", "ar@label.example", env=env(db, tmp_path))
    assert failed.returncode == 1
    with smtp_server() as (inbox, port):
        week = soundcharts("digest", "--days", "7", "--to", "ar@label.example", env=env(db, tmp_path, port))
        assert week.returncode == 0 and week.stdout.rstrip().endswith("2 sent, 0 already sent, 0 kept for the next run")
        subjects = [message["Subject"].strip() for *_, message in inbox.received]
    start = YESTERDAY - timedelta(days=6)
    assert sorted(s.split(":")[0] for s in subjects) == sorted([f"Roster digest {YESTERDAY}",
                                                                f"Roster digest {start} to {YESTERDAY}"])
    assert sql(db, "SELECT COUNT(*) FROM digest_delivery WHERE sent_at IS NOT NULL") == [(2,)]


def test_a_webhook_gets_the_digest_once_and_its_url_is_kept_nowhere(db, tmp_path):
    with webhook_server() as hook:
        url = f"http://127.0.0.1:{hook.server_port}/services/T01/B02/{TOKEN}"
        hook.answer = 500
        failed = soundcharts("digest", "--webhook", url, env=env(db, tmp_path))
        one_line_error(failed, 1, f"webhook http://127.0.0.1:{hook.server_port}/…: HTTP 500 from 127.0.0.1; "
                                  f"kept for the next run")
        assert len(hook.posts) == 4  # the first attempt and 3 retries
        hook.answer = 200
        sent = soundcharts("digest", "--webhook", url, env=env(db, tmp_path))
        assert sent.returncode == 0 and "1 sent, 0 already sent" in sent.stdout, sent.stderr
        again = soundcharts("digest", "--webhook", url, env=env(db, tmp_path))
        assert again.returncode == 0 and "0 sent, 1 already sent" in again.stdout
        assert len(hook.posts) == 5
        path, headers, body = hook.posts[-1]
    [(delivery_id, target)] = sql(db, "SELECT id, target FROM digest_delivery")
    assert target == "webhook:" + hashlib.sha256(url.encode()).hexdigest()
    assert path == f"/services/T01/B02/{TOKEN}" and headers["Idempotency-Key"] == f"soundcharts-digest-{delivery_id}"
    [(subject,)] = sql(db, "SELECT subject FROM digest")
    assert body["text"] == subject and body["blocks"][0] == {"type": "header", "text": {"type": "plain_text",
                                                                                          "text": subject}}
    sections = "\n".join(b["text"]["text"] for b in body["blocks"][1:])
    assert f"<{PUBLIC}/voila/render/track.ipynb?uuid=" in sections and "*Audience growth leaders*" in sections
    outputs = failed.stdout + failed.stderr + sent.stdout + sent.stderr + again.stdout
    kept = (tmp_path / "digest.db").read_bytes() + (tmp_path / "soundcharts.log").read_bytes()
    assert TOKEN not in outputs and TOKEN.encode() not in kept
    assert [params for (params,) in sql(db, "SELECT params FROM sync_run WHERE kind = 'digest'")] == [json.dumps(
        {"days": 1, "to": [], "webhooks": [target]})] * 3


def test_dry_run_writes_the_html_and_sends_and_stores_nothing(db, tmp_path):
    out = tmp_path / "digest.html"
    with smtp_server() as (inbox, port):
        run = soundcharts("digest", "--dry-run", str(out), "--to", "ar@label.example", env=env(db, tmp_path, port))
        assert run.returncode == 0 and run.stdout.strip() == (
            f"dry run: digest of {YESTERDAY} (rendered) written to {out}; nothing sent")
        assert inbox.received == []
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and f"{PUBLIC}/voila/render/track.ipynb?uuid=" in page
    assert 'src="data:image/png;base64,iVBORw0KGgo' in page and f"cid:{CID}" not in page
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    assert sql(db, "SELECT COUNT(*) FROM digest") == [(0,)]
    assert sql(db, "SELECT COUNT(*) FROM sync_run WHERE kind = 'digest'") == [(0,)]
    assert not list(tmp_path.glob(".digest.html.*"))  # no temporary file left


def test_a_period_is_rendered_once_and_a_dry_run_shows_what_was_sent(db, tmp_path):
    with smtp_server() as (inbox, port):
        first = soundcharts("digest", "--to", "ar@label.example", env=env(db, tmp_path, port))
        assert first.returncode == 0
        engine = make_engine(db)
        roster.remove(engine, "track", roster.roster_track_uuids(engine)[0], actor="test")  # the roster changes
        engine.dispose()
        later = soundcharts("digest", "--to", "ceo@label.example", env=env(db, tmp_path, port))
        assert later.returncode == 0 and "(as stored: " in later.stdout
        pages = [parts(message)[1] for *_, message in inbox.received]
    assert pages[0] == pages[1]
    shown = soundcharts("digest", "--dry-run", str(tmp_path / "again.html"), env=env(db, tmp_path))
    assert "(as stored)" in shown.stdout
    [(stored,)] = sql(db, "SELECT html FROM digest")
    figure = stored.index(f"cid:{CID}")
    assert (tmp_path / "again.html").read_text()[:figure] == stored[:figure]


def test_without_recipients_the_job_keeps_the_digest_and_says_so(db, tmp_path):
    from soundcharts_lib.config import Settings
    from soundcharts_lib.jobs.digest import digest

    result = digest(Settings.from_env(env(db, tmp_path), dotenv=False), {"days": "1"})
    assert result.status == "success" and result.counts["rendered"] == 1 and result.counts["sent"] == 0
    assert result.notes == ("no recipient: set SOUNDCHARTS_DIGEST_TO or SOUNDCHARTS_DIGEST_WEBHOOK (kept: a later "
                            "run naming one sends it)",)
    assert sql(db, "SELECT COUNT(*) FROM digest") == [(1,)]
    assert sql(db, "SELECT COUNT(*) FROM digest_delivery") == [(0,)]


@pytest.mark.postgres
def test_on_postgresql_the_digest_arrives_and_a_failed_delivery_is_sent_once(pg_url, tmp_path):
    build(pg_url)
    port = free_port()
    failed = soundcharts("digest", "--to", "ar@label.example", env=env(pg_url, tmp_path, port))
    one_line_error(failed, 1, f"cannot reach the SMTP server 127.0.0.1:{port}")
    with smtp_server(port) as (inbox, _):
        for _ in range(2):
            assert soundcharts("digest", "--to", "ar@label.example", env=env(pg_url, tmp_path, port)).returncode == 0
        [(_, rcpt, message)] = inbox.received
    plain, page, images = parts(message)
    assert rcpt == ["ar@label.example"] and message["Subject"].strip().startswith(f"Roster digest {YESTERDAY}: ")
    assert f"{PUBLIC}/voila/render/track.ipynb?uuid=" in page and len(images) == 1
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT attempts, sent_at IS NOT NULL FROM digest_delivery")).all() == [(2, True)]
    engine.dispose()
