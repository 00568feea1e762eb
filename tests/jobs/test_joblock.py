"""Job locks: a second run of a job is refused at once, across hosts on PostgreSQL, on one host with SQLite."""

import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from soundcharts_lib.config import Settings
from soundcharts_lib.jobs.lock import JobLocked, advisory_key, job_lock

HOLDER = textwrap.dedent("""
    import socket, sys, time
    from soundcharts_lib.config import Settings
    from soundcharts_lib.jobs.lock import JobLocked, job_lock
    settings = Settings.from_env({"SOUNDCHARTS_DB_URL": sys.argv[1], "SOUNDCHARTS_RUNS_DIR": sys.argv[2]})
    try:
        with job_lock("sync_charts", settings):
            print("RAN on", socket.gethostname(), flush=True)
            time.sleep(float(sys.argv[3]))
    except JobLocked as exc:
        print("LOCKED on", socket.gethostname(), exc, flush=True)
        sys.exit(3)
""")


def _start(host: str, url: str, runs, hold: float) -> subprocess.Popen:
    cmd = [sys.executable, "-c", HOLDER, url, str(runs), str(hold)]
    if shutil.which("unshare") and shutil.which("hostname"):  # a host of its own name (UTS namespace)
        cmd = ["unshare", "--uts", "sh", "-c", f'hostname {host} && exec "$0" "$@"', *cmd]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.postgres
def test_two_hosts_contend_on_postgres_and_exactly_one_runs(pg_url, tmp_path):
    first = _start("worker-a", pg_url, tmp_path / "a", 4)
    time.sleep(1.5)
    second = _start("worker-b", pg_url, tmp_path / "b", 0)  # its own runs folder: no shared file to lock
    out_b, err_b = second.communicate(timeout=60)
    out_a, err_a = first.communicate(timeout=60)
    assert first.returncode == 0 and out_a.startswith("RAN on"), err_a
    assert second.returncode == 3 and "LOCKED" in out_b and "advisory lock" in out_b, err_b
    print(out_a.strip(), "|", out_b.strip())
    third = _start("worker-b", pg_url, tmp_path / "b", 0)  # released when the first finished
    assert third.wait(timeout=60) == 0


def test_file_lock_on_sqlite(tmp_path):
    settings = Settings.from_env({"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'x.db'}",
                                  "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs")})
    with job_lock("sync_charts", settings):
        with pytest.raises(JobLocked, match="already running"), job_lock("sync_charts", settings):
            pass
        with job_lock("fetch_audience", settings):  # another job is not blocked
            pass
    with job_lock("sync_charts", settings):
        pass


def test_advisory_keys_are_stable_and_distinct():
    assert advisory_key("sync_charts") == advisory_key("sync_charts")
    assert advisory_key("sync_charts") != advisory_key("fetch_audience")
    assert -(2**63) <= advisory_key("x") < 2**63
