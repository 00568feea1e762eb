"""Hostile and careless input to every ``soundcharts`` command: each probe is exit 2 with one line on stderr, no
traceback, no secret echoed, and no write (the database's content and the runs/ folder are the same after it).

Most probes run through ``cli.main`` in this process (the command's own code, no start-up cost); the commands that
would block when not refused (``serve``, ``demo``, ``localapi``) and a sample of the others run as the installed
``soundcharts`` command in a subprocess. The API URL points at a closed port, so a probe that got as far as the
API would fail with exit 1 instead of being refused.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from soundcharts_lib.db import make_engine, upgrade
from soundcharts_lib.db.store_audience import ensure_track

UUID = "00000000-0000-4000-8000-000000000001"
BIG = str(2 ** 64)
API_KEY, CLIENT_SECRET, ADMIN_TOKEN = "CANARY-api-key-5c1e", "CANARY-client-secret-81d0", "CANARY-admin-token-2b7a"
SECRETS = (API_KEY, CLIENT_SECRET, ADMIN_TOKEN)
MARKER = Path(tempfile.gettempdir()) / f"scw-cli-probe-{os.getpid()}"  # what code in a parameter name would touch
SOUNDCHARTS = Path(sys.executable).with_name("soundcharts")  # the installed command of this virtualenv


@dataclass(frozen=True)
class Probe:
    args: tuple[str, ...]
    words: str  # what the one line names
    process: bool = False  # run as the installed command (else through cli.main in this process)


PROBES: dict[str, Probe] = {
    # sync-charts
    "sync_days_over_100_years": Probe(("sync-charts", "--backfill-days", "36501"), "at most 36500"),
    "sync_days_2_64": Probe(("sync-charts", "--backfill-days", BIG), "at most 36500", process=True),
    "sync_days_negative": Probe(("sync-charts", "--backfill-days", "-1"), "at least 1"),
    "sync_days_full_width": Probe(("sync-charts", "--backfill-days", "２８"), "not a whole number"),
    "sync_days_underscore": Probe(("sync-charts", "--backfill-days", "1_0"), "not a whole number"),
    "sync_date_full_width": Probe(("sync-charts", "--date", "２０２６-01-01"), "YYYY-MM-DD", process=True),
    "sync_date_compact": Probe(("sync-charts", "--date", "20250101"), "YYYY-MM-DD"),
    "sync_date_week": Probe(("sync-charts", "--date", "2025-W01-1"), "YYYY-MM-DD"),
    "sync_date_future": Probe(("sync-charts", "--date", "2999-01-01"), "after today"),
    "sync_range_future": Probe(("sync-charts", "--start-date", "2999-01-01", "--end-date", "2999-02-01"),
                               "after today"),
    "sync_chart_newline": Probe(("sync-charts", "--chart", "spotify-top-200-global-daily\n"), "not a slug"),
    "sync_chart_long": Probe(("sync-charts", "--chart", "a" * 10_000), "not a slug"),
    "sync_platform_traversal": Probe(("sync-charts", "--platform", "../spotify"), "not a slug"),
    "sync_country_accented": Probe(("sync-charts", "--country", "ÉS"), "2-letter"),
    "sync_country_full_width": Probe(("sync-charts", "--country", "ｆｒ"), "2-letter"),
    # fetch-audience, fetch-metadata
    "audience_limit_over": Probe(("fetch-audience", "--limit", "1000001"), "at most 1000000"),
    "audience_limit_2_64": Probe(("fetch-audience", "--limit", BIG), "at most 1000000"),
    "audience_start_1999": Probe(("fetch-audience", "--start-date", "1999-12-31"), "2000-01-01"),
    "audience_start_year_1": Probe(("fetch-audience", "--start-date", "0001-01-01"), "2000-01-01", process=True),
    "audience_uuid_newline": Probe(("fetch-audience", "--track-uuid", UUID + "\n"), "not a SoundCharts UUID"),
    "audience_end_compact": Probe(("fetch-audience", "--end-date", "20250101"), "YYYY-MM-DD"),
    "audience_platform_long": Probe(("fetch-audience", "--platform", "a" * 300), "not a slug"),
    "metadata_uuid_newline": Probe(("fetch-metadata", "--track-uuid", UUID + "\n"), "not a SoundCharts UUID",
                                   process=True),
    # export
    "export_limit_2_64": Probe(("export", "audience", "--track-uuid", UUID, "--limit", BIG), "at most 1000000"),
    "export_date_full_width": Probe(("export", "chart-ranking", "--chart", "x", "--date", "２０２６-０１-０１"),
                                    "YYYY-MM-DD"),
    "export_chart_newline": Probe(("export", "chart-ranking", "--chart", "x\n"), "not a slug"),
    "export_table_traversal": Probe(("export", "../../etc/passwd"), "invalid choice"),
    "export_output_nul": Probe(("export", "overview-tracks", "-o", "a\x00b.csv"), "NUL"),
    "export_output_long": Probe(("export", "overview-tracks", "-o", "x" * 5000 + ".csv"), "cannot write"),
    # maintenance, health
    "cleanup_over_100_years": Probe(("maintenance", "cleanup", "--older-than", "36501"), "at most 36500"),
    "cleanup_rankings_2_64": Probe(("maintenance", "cleanup", "--rankings-days", BIG, "--dry-run"),
                                   "at most 36500"),
    "cleanup_archives_zero": Probe(("maintenance", "cleanup", "--archives-days", "0"), "at least 1"),
    "backup_to_nul": Probe(("maintenance", "backup", "--to", "x\x00y.db"), "NUL"),
    "restore_from_nowhere": Probe(("maintenance", "restore", "--from", "../no/such/backup.db"), "backup.db"),
    "maintenance_unknown_action": Probe(("maintenance", "vacuum"), "invalid choice"),
    "health_stale_negative": Probe(("health", "--skip-api", "--max-stale", "-1"), "at least 0"),
    "health_quota_2_64": Probe(("health", "--skip-api", "--min-quota", BIG), "at most"),
    "health_hours_over": Probe(("health", "--skip-api", "--max-running-hours", "876001"), "at most 876000"),
    "health_timeout_over": Probe(("health", "--timeout", "3601"), "at most 3600"),
    "health_timeout_nan": Probe(("health", "--timeout", "nan"), "not a whole number"),
    # roster, alerts, annotations
    "roster_track_newline": Probe(("roster", "add", "--track", UUID + "\n"), "not a SoundCharts UUID"),
    "roster_artist_short": Probe(("roster", "remove", "--artist", "1234"), "not a SoundCharts UUID"),
    "roster_label_nul": Probe(("roster", "add", "--track", UUID, "--label", "a\x00b"), "control character"),
    "rule_pct_nan": Probe(("alerts", "rules", "add", "r", "--kind", "audience_growth", "--pct", "nan"),
                          "finite"),
    "rule_pct_inf": Probe(("alerts", "rules", "add", "r", "--kind", "audience_growth", "--pct", "inf"),
                          "finite"),
    "rule_top_2_64": Probe(("alerts", "rules", "add", "r", "--kind", "top_entry", "--top", BIG), "at most"),
    "rule_days_over": Probe(("alerts", "rules", "add", "r", "--kind", "audience_growth", "--pct", "5", "--days",
                             "36501"), "at most 36500"),
    "rule_name_long": Probe(("alerts", "rules", "add", "r" * 5000, "--kind", "chart_stale"), "1 to 200 characters"),
    "rule_name_nul": Probe(("alerts", "rules", "add", "a\x00b", "--kind", "chart_stale"), "control character"),
    "rule_webhook_bad_port": Probe(("alerts", "rules", "add", "r", "--kind", "chart_stale", "--webhook",
                                    "http://example.org:99999/hook"), "webhook"),
    "alerts_days_2_64": Probe(("alerts", "list", "--days", BIG), "at most 36500", process=True),
    "alerts_limit_over": Probe(("alerts", "list", "--limit", "1000001"), "at most 1000000"),
    "note_date_compact": Probe(("annotations", "add", "--track", UUID, "--date", "20250101", "--text", "hi"),
                               "YYYY-MM-DD"),
    "note_kind_newline": Probe(("annotations", "add", "--track", UUID, "--date", "2025-01-01", "--text", "hi",
                                "--kind", "note\n"), "kind"),
    "note_text_nul": Probe(("annotations", "add", "--track", UUID, "--date", "2025-01-01", "--text", "a\x00b"),
                           "control character"),
    "note_text_long": Probe(("annotations", "add", "--track", UUID, "--date", "2025-01-01", "--text", "t" * 100_000),
                            "1 to 1000 characters"),
    "note_remove_2_64": Probe(("annotations", "remove", BIG), "at most", process=True),
    "note_remove_zero": Probe(("annotations", "remove", "0"), "at least 1"),
    # run-job
    "job_code_in_key": Probe(("run-job", "sync_charts", "-p", f"__import__('os').system('touch {MARKER}');x",
                              "1"), "not a parameter name", process=True),
    "job_unknown_key": Probe(("run-job", "sync_charts", "-p", "days", "3"), "backfill_days"),
    "job_keyword_key": Probe(("run-job", "sync_charts", "-p", "class", "1"), "not a parameter name"),
    "job_key_nul": Probe(("run-job", "sync_charts", "-p", "a\x00", "1"), "not a parameter name"),
    "job_api_key_value": Probe(("run-job", "sync_charts", "-p", "platforms", API_KEY), "secret", process=True),
    "job_client_secret_value": Probe(("run-job", "fetch_metadata", "-p", "track_uuids", CLIENT_SECRET), "secret"),
    "job_admin_token_value": Probe(("run-job", "maintenance", "-p", "backup_dir", ADMIN_TOKEN), "secret"),
    "job_name_traversal": Probe(("run-job", "../scheduled/sync_charts"), "not a slug"),
    "job_name_newline": Probe(("run-job", "sync_charts\n"), "not a slug"),
    "job_scope_slash": Probe(("run-job", "sync_charts", "--lock-scope", "a/b"), "not a slug"),
    # serve, demo, localapi: they would keep running when not refused
    "serve_port_over": Probe(("serve", "--port", "65536"), "at most 65535", process=True),
    "serve_port_2_64": Probe(("serve", "--admin", "--port", BIG), "at most 65535", process=True),
    "demo_api_port_negative": Probe(("demo", "--api-port", "-1"), "at least 1", process=True),
    "demo_days_over": Probe(("demo", "--backfill-days", "36501"), "at most 36500", process=True),
    "localapi_port_2_64": Probe(("localapi", "--port", BIG), "from 0 to 65535", process=True),
    "localapi_fault_rate_nan": Probe(("localapi", "--fault-rate", "nan"), "fault", process=True),
    "localapi_history_over": Probe(("localapi", "--history-days", "36501"), "from 1 to 36500", process=True),
    "localapi_today_compact": Probe(("localapi", "--today", "20250101"), "YYYY-MM-DD", process=True),
    "localapi_token_ttl_inf": Probe(("localapi", "--token-ttl", "inf"), "token_ttl", process=True),
    "localapi_seed_2_64": Probe(("localapi", "--seed", BIG), "seed must be from 0", process=True),
    # the command itself
    "unknown_command": Probe(("drop-database",), "invalid choice"),
    "option_of_another_command": Probe(("init-db", "--backfill-days", "3"), "unrecognized arguments"),
}


# --- the sandbox: a migrated database with one track, an empty runs/ folder, canary secrets ----------------------

@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("cli-probes")
    engine = make_engine(f"sqlite:///{home / 'probe.db'}")
    upgrade(engine)
    ensure_track(engine, UUID, "A song", "Someone", None)
    engine.dispose()
    (home / "runs").mkdir()
    (home / "work").mkdir()
    return home


def environment(home: Path) -> dict[str, str]:
    return {"SOUNDCHARTS_DB_URL": f"sqlite:///{home / 'probe.db'}", "SOUNDCHARTS_RUNS_DIR": str(home / "runs"),
            "SOUNDCHARTS_LOG_FILE": str(home / "soundcharts.log"), "SOUNDCHARTS_CACHE_BACKEND": "none",
            "SOUNDCHARTS_API_URL": "http://127.0.0.1:9", "SOUNDCHARTS_MAX_RETRIES": "1",
            "SOUNDCHARTS_APP_ID": "probe", "SOUNDCHARTS_API_KEY": API_KEY, "SOUNDCHARTS_CLIENT_ID": "probe",
            "SOUNDCHARTS_CLIENT_SECRET": CLIENT_SECRET, "SOUNDCHARTS_ADMIN_TOKEN": ADMIN_TOKEN}


def state(home: Path) -> str:
    """A digest of the database's content, the runs/ folder listing and the working folder's listing."""
    digest = hashlib.sha256()
    conn = sqlite3.connect(f"file:{home / 'probe.db'}?mode=ro", uri=True)
    try:
        for line in conn.iterdump():
            digest.update(line.encode())
    finally:
        conn.close()
    for folder in ("runs", "work"):
        for path in sorted((home / folder).rglob("*")):
            digest.update(str(path.relative_to(home)).encode())
    return digest.hexdigest()


@dataclass
class Outcome:
    code: int | None
    stdout: str
    stderr: str


def in_process(args: tuple[str, ...], capsys) -> Outcome:
    from soundcharts_lib.cli import main as cli

    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # argparse's refusal
        code = exc.code
    out, err = capsys.readouterr()
    return Outcome(code, out, err)


def as_process(args: tuple[str, ...], home: Path) -> Outcome:
    """The installed command; one that is still running after 60 s was not refused (its process group is
    killed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOUNDCHARTS_")} | environment(home)
    proc = subprocess.Popen([str(SOUNDCHARTS), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=home / "work", start_new_session=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return Outcome(None, out, f"still running after 60 s\n{err}")
    return Outcome(proc.returncode, out, err)


def check(name: str, got: Outcome) -> str:
    """Exit 2, one line on stderr naming the probe's words, no traceback, no secret: the line."""
    assert "Traceback" not in got.stdout + got.stderr, got.stderr[-3000:]
    lines = [line for line in got.stderr.splitlines() if line.strip()]
    assert got.code == 2 and len(lines) == 1, (got.code, got.stderr[-3000:])
    assert PROBES[name].words.lower() in lines[0].lower(), lines[0]
    leaked = [s for s in SECRETS if s in got.stdout + got.stderr]
    assert not leaked, f"secret echoed: {lines[0]}"
    return lines[0]


@pytest.fixture(scope="module")
def process_outcomes(sandbox) -> dict[str, tuple[Outcome, str, str]]:
    """The subprocess probes, 4 at a time, one after another on the same sandbox: ``(outcome, state before,
    state after)``. The states are taken around the whole batch of four, so a write by any of them shows."""
    names = [n for n, p in PROBES.items() if p.process]
    results: dict[str, tuple[Outcome, str, str]] = {}
    with ThreadPoolExecutor(4) as pool:
        for i in range(0, len(names), 4):
            batch = names[i:i + 4]
            before = state(sandbox)
            outcomes = list(pool.map(lambda n: as_process(PROBES[n].args, sandbox), batch))
            after = state(sandbox)
            results.update({n: (o, before, after) for n, o in zip(batch, outcomes, strict=True)})
    return results


@pytest.mark.parametrize("name", [n for n, p in PROBES.items() if not p.process])
def test_probe_in_process(name, sandbox, monkeypatch, capsys):
    for key in [k for k in os.environ if k.startswith("SOUNDCHARTS_")]:
        monkeypatch.delenv(key)
    for key, value in environment(sandbox).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(sandbox / "work")
    before = state(sandbox)
    got = in_process(PROBES[name].args, capsys)
    line = check(name, got)
    assert state(sandbox) == before, f"{name} wrote: {line}"
    assert not MARKER.exists()
    print(f"{name}: exit 2, {line!r}")


@pytest.mark.parametrize("name", [n for n, p in PROBES.items() if p.process])
def test_probe_as_a_process(name, sandbox, process_outcomes):
    got, before, after = process_outcomes[name]
    line = check(name, got)
    assert after == before, f"{name} wrote: {line}"
    assert not MARKER.exists()
    print(f"{name}: exit 2, {line!r}")


@pytest.mark.postgres
def test_the_database_password_as_a_job_parameter_is_refused(pg_url, monkeypatch, capsys, tmp_path):
    """The password of ``SOUNDCHARTS_DB_URL`` given as a parameter value: refused, not echoed, nothing created in
    the database (the job never ran) and nothing archived."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.engine import make_url

    password = make_url(pg_url).password
    assert password, "the test server's URL has a password"
    monkeypatch.setenv("SOUNDCHARTS_DB_URL", pg_url)
    monkeypatch.setenv("SOUNDCHARTS_RUNS_DIR", str(tmp_path / "runs"))
    got = in_process(("run-job", "sync_charts", "-p", "charts", password), capsys)
    lines = got.stderr.strip().splitlines()
    assert got.code == 2 and len(lines) == 1 and "secret" in lines[0], got.stderr
    assert password not in got.stdout + got.stderr
    engine = create_engine(pg_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    assert not (tmp_path / "runs").exists()
