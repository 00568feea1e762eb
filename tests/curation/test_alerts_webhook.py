"""Webhook delivery against a real HTTP receiver on 127.0.0.1 that fails the first attempts."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import insert, select

from soundcharts_lib.curation import alerts, webhooks
from soundcharts_lib.db.models import Alert, Chart, Platform
from soundcharts_lib.web.launch import free_port

TOKEN = "s3cr3t-T0KEN"
D = date(2026, 3, 10)


class Receiver:
    """Answers each POST with the next planned reply (a status code, or "hang" to outlast the client's
    timeout), then 200; keeps every request."""

    def __init__(self):
        self.plan: list = []
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": json.loads(body)})
                reply = receiver.plan.pop(0) if receiver.plan else 200
                if reply == "hang":
                    time.sleep(1.0)
                    reply = 200
                self.send_response(reply)
                if reply == 429:
                    self.send_header("Retry-After", "2")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/{TOKEN}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def db(engine):
    """Three stale charts, so a chart_stale rule fires three alerts."""
    with engine.begin() as conn:
        conn.execute(insert(Platform).values(id=1, slug="spotify", name="Spotify"))
        conn.execute(insert(Chart), [{"id": i, "slug": f"chart-{i}", "name": f"Chart {i}", "platform_id": 1,
                                      "frequency": "daily", "last_ranking_date": date(2026, 1, i), "is_active": True}
                                     for i in (1, 2, 3)])
    return engine


def stale_rule(db, url: str | None) -> None:
    alerts.add_rule(db, "stale", "chart_stale", webhook_url=url)
    assert len(alerts.evaluate(db, today=D).fired) == 3


def rows(db) -> list[tuple]:
    q = select(Alert.id, Alert.delivered_at.is_not(None), Alert.delivery_attempts, Alert.delivery_error)
    with db.connect() as conn:
        return [tuple(r) for r in conn.execute(q.order_by(Alert.id))]


def test_retries_until_the_receiver_answers(db, receiver):
    stale_rule(db, receiver.url)
    receiver.plan = [503, 502, 500]  # the first alert needs four attempts
    waits: list[float] = []
    result = webhooks.deliver(db, sleep=waits.append, backoff=0.5, max_backoff=1.5)
    assert (result.delivered, result.failed, result.waiting) == (3, 0, 0)
    assert waits == [0.5, 1.0, 1.5]  # doubling, bounded
    assert [(delivered, attempts, error) for _, delivered, attempts, error in rows(db)] == [
        (True, 4, None), (True, 1, None), (True, 1, None)]
    first = receiver.requests[0]
    assert first["path"] == f"/hooks/{TOKEN}" and first["headers"]["Content-Type"] == "application/json"
    assert {r["headers"]["Idempotency-Key"] for r in receiver.requests[:4]} == {"soundcharts-alert-1"}
    body = first["body"]
    assert set(body) == {"id", "rule", "kind", "subject", "message", "text", "fired_at", "details"}
    assert body["rule"] == "stale" and body["kind"] == "chart_stale" and body["details"]["chart"] == "chart-1"
    assert body["text"] == f"{body['subject']}: {body['message']}" and body["fired_at"].endswith("Z")
    assert webhooks.deliver(db, sleep=waits.append).delivered == 0  # delivered once only
    assert len(receiver.requests) == 6


def test_a_dead_receiver_keeps_the_alerts_for_the_next_run(db, receiver, caplog):
    stale_rule(db, receiver.url)
    receiver.plan = [500] * 4
    waits: list[float] = []
    with caplog.at_level(logging.DEBUG):
        result = webhooks.deliver(db, retries=3, sleep=waits.append)
    assert (result.delivered, result.failed, result.waiting) == (0, 1, 2)
    assert len(receiver.requests) == 4 and len(waits) == 3
    error = "HTTP 500 from 127.0.0.1"
    assert [(d, a, e) for _, d, a, e in rows(db)] == [(False, 4, error), (False, 0, None), (False, 0, None)]
    assert result.errors == [f"alert 1 (stale): {error}"]
    assert TOKEN not in caplog.text and TOKEN not in repr(result)
    assert alerts.recent_alerts(db)["delivered"].tolist() == [False, False, False]
    retry = webhooks.deliver(db, sleep=waits.append)  # the receiver is back
    assert (retry.delivered, retry.failed) == (3, 0)
    assert [(d, a, e) for _, d, a, e in rows(db)] == [(True, 5, None), (True, 1, None), (True, 1, None)]


def test_client_errors_are_not_retried_and_alerts_are_given_up_eventually(db, receiver, monkeypatch):
    stale_rule(db, receiver.url)
    receiver.plan = [404] * 20
    waits: list[float] = []
    assert webhooks.deliver(db, sleep=waits.append).failed == 1
    assert waits == [] and rows(db)[0][2:] == (1, "HTTP 404 from 127.0.0.1")
    monkeypatch.setattr(webhooks, "MAX_ATTEMPTS", 2)
    webhooks.deliver(db, sleep=waits.append)
    assert rows(db)[0][2] == 2 and [a["id"] for a in webhooks.pending(db)] == [2, 3]


def test_rate_limited_waits_as_told(db, receiver):
    stale_rule(db, receiver.url)
    receiver.plan = [429]
    waits: list[float] = []
    assert webhooks.deliver(db, sleep=waits.append, max_backoff=8).delivered == 3
    assert waits == [2.0]


def test_timeouts_and_refused_connections_name_the_host_only(db, receiver):
    receiver.plan = ["hang"]
    outcome = webhooks.post(receiver.url, {"id": 1}, retries=0, timeout=0.2,
                            sleep=lambda s: None)
    assert (outcome.ok, outcome.attempts, outcome.error) == (False, 1, "timed out after 0.2s contacting 127.0.0.1")
    closed = f"http://127.0.0.1:{free_port()}/hooks/{TOKEN}"
    outcome = webhooks.post(closed, {"id": 1}, retries=2, backoff=0.01,
                            sleep=lambda s: None)
    assert (outcome.ok, outcome.attempts, outcome.error) == (False, 3, "ConnectionRefusedError contacting 127.0.0.1")


def test_rules_without_a_webhook_or_disabled_are_not_delivered(db, receiver):
    stale_rule(db, None)
    alerts.add_rule(db, "off", "chart_stale", webhook_url=receiver.url, enabled=False)
    assert webhooks.pending(db) == [] and webhooks.deliver(db).summary() == "0 delivered, 0 failed, 0 waiting"
    assert receiver.requests == []


def test_after_sync_evaluates_then_delivers(db, receiver):
    alerts.add_rule(db, "stale", "chart_stale", webhook_url=receiver.url)
    line = alerts.after_sync(db, today=D)
    assert line == "alerts: 3 new alerts from 1 rules; webhooks: 3 delivered, 0 failed, 0 waiting"
    assert sorted(r["body"]["details"]["chart"] for r in receiver.requests) == ["chart-1", "chart-2", "chart-3"]
