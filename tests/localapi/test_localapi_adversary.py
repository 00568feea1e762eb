"""The local server's adversary knobs over loopback (quota, rate limit, each fault kind) and its command."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from soundcharts_lib.localapi import LocalApiConfig, add_arguments, run_from_args, running

TODAY = dt.date(2025, 4, 15)
AUTH = {"x-app-id": "soundcharts", "x-api-key": "soundcharts"}
PLATFORMS = "/api/v2/referential/platforms"
ROOT = Path(__file__).resolve().parents[2]


def _session():
    session = requests.Session()
    session.headers.update(AUTH)
    return session


def test_quota_counts_down_then_429_without_rate_limit_wording():
    with running(LocalApiConfig(today=TODAY, quota=3)) as srv, _session() as http:
        remaining = [http.get(srv.base_url + PLATFORMS, timeout=5).headers["x-quota-remaining"]
                     for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        refused = http.get(srv.base_url + PLATFORMS, timeout=5)
        assert refused.status_code == 429 and refused.headers["x-quota-remaining"] == "0"
        message = refused.json()["errors"][0]["message"]
        assert "quota" in message.lower() and "maximum request count" not in message
        assert "x-ratelimit-reset" not in refused.headers
        usage = http.get(srv.base_url + "/api/v2/team/usage", timeout=5)
        assert usage.status_code == 200
        assert usage.json()["object"]["quota"] == {"total": 3, "used": 3, "remaining": 0}
        unauthenticated = requests.get(srv.base_url + PLATFORMS, timeout=5)
        assert unauthenticated.status_code == 401 and unauthenticated.headers["x-quota-remaining"] == "0"


def test_unlimited_quota_header_is_constant():
    with running(LocalApiConfig(today=TODAY)) as srv, _session() as http:
        values = {http.get(srv.base_url + PLATFORMS, timeout=5).headers["x-quota-remaining"]
                  for _ in range(3)}
        assert values == {"1000000000"}


def test_rate_limit_429_has_reset_header_and_is_not_billed():
    with running(LocalApiConfig(today=TODAY, rate_limit_per_minute=2, quota=100)) as srv, _session() as http:
        assert [http.get(srv.base_url + PLATFORMS, timeout=5).status_code for _ in range(2)] == [200, 200]
        limited = http.get(srv.base_url + PLATFORMS, timeout=5)
        assert limited.status_code == 429
        assert "maximum request count" in limited.json()["errors"][0]["message"]
        assert 1 <= int(limited.headers["x-ratelimit-reset"]) <= 60
        assert limited.headers["x-quota-remaining"] == "98"
        usage = http.get(srv.base_url + "/api/v2/team/usage", timeout=5).json()["object"]
        assert usage["rateLimit"] == {"limitPerMinute": 2, "usedThisMinute": 2}
        assert srv.stats()["rate_limited"] == 1


def _faulty(kind, **extra):
    return running(LocalApiConfig(today=TODAY, fault_rate=1.0, fault_kinds=(kind,), **extra))


def test_fault_5xx():
    with _faulty("5xx") as srv, _session() as http:
        statuses = set()
        for _ in range(20):
            resp = http.get(srv.base_url + PLATFORMS, timeout=5)
            assert resp.json()["errors"][0]["code"] == resp.status_code
            assert resp.headers["x-quota-remaining"]
            statuses.add(resp.status_code)
        assert statuses <= {500, 502, 503, 504} and len(statuses) >= 3
        assert srv.stats()["faults"] == 20


def test_fault_timeout_answers_late():
    with _faulty("timeout", timeout_seconds=1.0) as srv, _session() as http:
        with pytest.raises(requests.Timeout):
            http.get(srv.base_url + PLATFORMS, timeout=0.3)
        assert http.get(srv.base_url + PLATFORMS, timeout=5).status_code == 200


def test_fault_reset_closes_without_a_response():
    with _faulty("reset") as srv, _session() as http, pytest.raises(requests.ConnectionError):
        http.get(srv.base_url + PLATFORMS, timeout=5)


def test_fault_malformed_is_a_200_with_broken_json():
    with _faulty("malformed") as srv, _session() as http:
        resp = http.get(srv.base_url + PLATFORMS, timeout=5)
        assert resp.status_code == 200 and resp.content
        with pytest.raises(json.JSONDecodeError):
            json.loads(resp.content)


def test_fault_ratelimit():
    with _faulty("ratelimit") as srv, _session() as http:
        resp = http.get(srv.base_url + PLATFORMS, timeout=5)
        assert resp.status_code == 429 and resp.headers["x-ratelimit-reset"] == "1"
        assert "maximum request count" in resp.json()["errors"][0]["message"]


def test_faults_spare_oauth_and_control_and_follow_their_seed():
    with _faulty("5xx") as srv:
        token = requests.post(srv.base_url + "/oauth/token", auth=("soundcharts", "soundcharts"),
                              data={"grant_type": "client_credentials"}, timeout=5)
        assert token.status_code == 200
        assert requests.get(srv.base_url + "/__localapi/stats", timeout=5).status_code == 200

    def sequence():
        with running(LocalApiConfig(today=TODAY, fault_rate=0.4, fault_seed=3,
                                    fault_kinds=("5xx", "ratelimit"))) as srv, _session() as http:
            return [http.get(srv.base_url + PLATFORMS, timeout=5).status_code for _ in range(30)]

    first = sequence()
    assert first == sequence() and 200 in first and set(first) - {200}


def test_latency_is_added():
    with running(LocalApiConfig(today=TODAY, latency_ms=150)) as srv, _session() as http:
        assert http.get(srv.base_url + PLATFORMS, timeout=5).elapsed.total_seconds() >= 0.15


def test_module_command_serves_and_stops_on_sigterm():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "soundcharts_lib.localapi", "--port", "0", "--seed", "4",
                             "--today", "2025-04-15", "--quota", "5"], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("Local SoundCharts API on http://127.0.0.1:")
        resp = requests.get(line.rsplit(" ", 1)[1] + PLATFORMS, headers=AUTH, timeout=5)
        assert resp.status_code == 200 and resp.headers["x-quota-remaining"] == "4"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_bad_options_and_a_busy_port_exit_2(capsys):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert run_from_args(parser.parse_args(["--fault-rate", "1.5"])) == 2
    with running(LocalApiConfig(today=TODAY)) as srv:
        assert run_from_args(parser.parse_args(["--port", srv.base_url.rsplit(":", 1)[1]])) == 2
    assert "fault_rate" in capsys.readouterr().err
