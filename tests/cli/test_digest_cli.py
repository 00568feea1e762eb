"""``soundcharts digest`` refuses bad input in one line with exit 2, before it opens or creates anything: days out of
1-31 or not a number, a malformed address, a webhook that is not http(s) (its URL, a secret, never repeated), nowhere
to send, mail without an SMTP server, a dry run into a folder that does not exist."""

from __future__ import annotations

import pytest

from cli.test_maintenance_cli import one_line_error, soundcharts

SECRET = "CANARY-hook-path-7b31"
CASES = {
    "days 0": (["--days", "0", "--to", "a@label.example"], "argument --days: must be at least 1, got 0"),
    "days 32": (["--days", "32", "--to", "a@label.example"], "error: days: must be at most 31, got 32"),
    "days huge": (["--days", "9" * 30, "--to", "a@label.example"], "argument --days: must be at most 36500"),
    "days text": (["--days", "seven", "--to", "a@label.example"], "argument --days: not a whole number: 'seven'"),
    "no at": (["--to", "label.example"], "argument --to: not an e-mail address (name@domain.example): 'label.exam"),
    "no domain": (["--to", "ar@label"], "argument --to: not an e-mail address"),
    "two in one": (["--to", "a@label.example,b@label.example"], "argument --to: not an e-mail address"),
    "a name": (["--to", "Ar <ar@label.example>"], "argument --to: not an e-mail address"),
    "ftp hook": (["--webhook", f"ftp://hooks.example/{SECRET}"],
                 "error: webhook: must be an http:// or https:// URL with a host"),
    "hostless hook": (["--webhook", f"https:///{SECRET}"], "error: webhook: must be an http:// or https:// URL"),
    "not a url": (["--webhook", SECRET], "error: webhook: must be an http:// or https:// URL"),
    "nowhere": ([], "error: nowhere to send the digest: give --to or --webhook"),
    "no smtp": (["--to", "a@label.example"], "error: SOUNDCHARTS_SMTP_HOST is not set"),
    "no folder": (["--dry-run", "{tmp}/missing/digest.html"], "error: dry_run: no folder"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_exit_2_with_nothing_created(case, tmp_path):
    argv, words = CASES[case]
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'never.db'}", "SOUNDCHARTS_RUNS_DIR": str(tmp_path / "runs")}
    res = soundcharts("digest", *[a.format(tmp=tmp_path) for a in argv], env=env)
    one_line_error(res, 2, words)
    assert res.stderr.startswith("soundcharts digest: ") and res.stdout == ""
    assert SECRET not in res.stderr
    assert not (tmp_path / "never.db").exists() and not (tmp_path / "runs").exists()


def test_a_bad_address_in_the_settings_is_one_line_too(tmp_path):
    env = {"SOUNDCHARTS_DB_URL": f"sqlite:///{tmp_path / 'never.db'}", "SOUNDCHARTS_DIGEST_TO": "a@label.example, oops",
           "SOUNDCHARTS_SMTP_HOST": "127.0.0.1"}
    one_line_error(soundcharts("digest", env=env), 2,
                   "error: SOUNDCHARTS_DIGEST_TO: not an e-mail address (name@domain.example): 'oops'")
    assert not (tmp_path / "never.db").exists()
