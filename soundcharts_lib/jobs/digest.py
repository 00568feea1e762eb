"""The roster digest job: the figures of the last ``days`` whole days (UTC, ending yesterday) for the roster
(:mod:`soundcharts_lib.warehouse.digest_data`), rendered once per period and kept (``digest``), mailed to each
address (``to``, else ``SOUNDCHARTS_DIGEST_TO``) and posted to each Slack-compatible webhook (``webhook``, else
``SOUNDCHARTS_DIGEST_WEBHOOK``), each delivery recorded (``digest_delivery``).

Without any recipient the digest is rendered and kept, and nothing is sent (a note says so). A delivery that fails
(the SMTP server or the webhook unreachable, a refusal) is kept as not sent and counted as a
failure (one line each, one for all the mail of a server that could not be reached): the run raises
:class:`~soundcharts_lib.jobs.result.JobFailed`, and the next run naming the same target sends it, the older
periods first; what was sent is never sent again. ``dry_run``: the HTML (figure inside) is written to that file
and nothing is sent nor stored. Runs of the job exclude each other (a lock of their own, also held under
``run-job``).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from soundcharts_lib import vocab
from soundcharts_lib.config import Secret, Settings
from soundcharts_lib.curation import digests
from soundcharts_lib.curation.alerts import check_webhook
from soundcharts_lib.curation.digest_mail import Rendered, period_text, render, standalone
from soundcharts_lib.db.runs import finish_run, start_run
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.jobs.lock import job_lock
from soundcharts_lib.jobs.params import Params, param
from soundcharts_lib.jobs.result import RunResult, Tally
from soundcharts_lib.jobs.runtime import migrated_engine, reading_engine
from soundcharts_lib.vocab import today_utc
from soundcharts_lib.warehouse.digest_data import digest_data

log = logging.getLogger(__name__)

JOB = "digest"
LOCK = "digest-delivery"  # not the job's name: run-job holds that one while its kernel runs this
MAX_DAYS = 31
days_check = vocab.whole_number(1, MAX_DAYS)


def webhook_url(text: str) -> Secret:
    """A webhook URL (http or https, with a host), kept as a secret: it never prints."""
    try:
        return Secret(check_webhook(text))
    except ConfigError:  # its message says "webhook must be ...": the parameter's name comes first already
        raise vocab.BadValue("must be an http:// or https:// URL with a host (at most 1000 characters)") from None


@dataclass(frozen=True)
class DigestParams(Params):
    """``scheduled/digest.ipynb``'s parameters (``days``), and those of the ``digest`` command.

    ``to``: e-mail addresses (default ``SOUNDCHARTS_DIGEST_TO``); ``webhook``: webhook URLs, secrets (default
    ``SOUNDCHARTS_DIGEST_WEBHOOK``; never a notebook parameter: an archived notebook would show it); ``dry_run``: a
    file the HTML is written to instead of sending."""

    JOB = JOB
    days: int = param(days_check, 1)
    to: tuple[str, ...] = param(vocab.email_address, many=True)
    webhook: tuple[Secret, ...] = param(webhook_url, many=True)
    dry_run: str | None = param(vocab.file_path)


@dataclass
class DigestTally(Tally):
    period: str = ""
    rendered: int = 0  # 1 when this run rendered the period's digest, 0 when it was stored already
    sent: int = 0
    already_sent: int = 0
    unsent: int = 0  # kept for the next run
    entries: int = 0
    exits: int = 0
    moves: int = 0
    alerts: int = 0

    COUNTS = ("rendered", "sent", "already_sent", "unsent", "entries", "exits", "moves", "alerts", "failures")

    def did_work(self) -> bool:
        return bool(self.sent)

    def summary(self) -> str:
        made = "rendered" if self.rendered else "as stored"
        return (f"{self.status}: digest of {self.period} ({made}: {self.entries} chart entries, {self.exits} exits, "
                f"{self.moves} moves up, {self.alerts} alerts); {self.sent} sent, {self.already_sent} already sent, "
                f"{self.unsent} kept for the next run")


def _targets(settings: Settings, params: DigestParams) -> tuple[list[str], list[str]]:
    """The addresses and webhook URLs of the run: the parameters', else the settings'."""
    emails = list(params.to) or [vocab.checked("SOUNDCHARTS_DIGEST_TO", vocab.email_address, a)
                                 for a in settings.digest_to]
    hooks = [w.get() for w in params.webhook] or (
        [vocab.checked("SOUNDCHARTS_DIGEST_WEBHOOK", webhook_url, settings.digest_webhook.get()).get()]
        if settings.digest_webhook else [])
    return list(dict.fromkeys(emails)), list(dict.fromkeys(hooks))


def _write(path: str, text: str) -> None:
    """``text`` into ``path`` whole (a temporary file beside it, renamed), or one line saying why not."""
    target = Path(path)
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, 0o644)  # as a file written by hand (mkstemp's is 0600)
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None


def _dry_run(settings: Settings, params: DigestParams, start, end) -> RunResult:
    """The period's digest (as stored, else rendered now and not stored) written to the dry run's file."""
    engine = reading_engine(settings)
    try:
        kept = digests.stored(engine, start, end)
        if kept is None:
            data = digest_data(engine, start, end)
            rendered, counts = render(data, settings.public_url), data.counts()
        else:
            rendered, counts = kept.rendered, kept.counts
    finally:
        engine.dispose()
    _write(params.dry_run, standalone(rendered))
    return RunResult(JOB, "success", f"dry run: digest of {period_text(start, end)} "
                                     f"({'as stored' if kept else 'rendered'}) written to {params.dry_run}; "
                                     f"nothing sent", counts)


def _deliver(engine, settings: Settings, emails: list[str], hooks: list[str], tally: DigestTally) -> None:
    """Every delivery not sent yet to the run's targets, the oldest period first."""
    urls = {digests.webhook_target(url): url for url in hooks}
    waiting = digests.pending(engine, emails + list(urls))
    renders: dict[int, Rendered] = {}

    def rendered(delivery) -> Rendered:
        if delivery["digest_id"] not in renders:
            kept = digests.stored(engine, delivery["period_start"], delivery["period_end"])
            renders[delivery["digest_id"]] = kept.rendered
        return renders[delivery["digest_id"]]

    def done(delivery, error: str | None) -> None:
        digests.record(engine, delivery["id"], error)
        if error is None:
            tally.sent += 1
        else:
            tally.unsent += 1
            log.warning("digest %s to %s not sent: %s", delivery["period_end"], delivery["target"][:20], error)

    mails = [d for d in waiting if d["target"] in emails]
    if mails:
        try:
            with digests.smtp_session(settings) as session:
                for delivery in mails:
                    error = digests.send_mail(session, rendered(delivery), settings.smtp_from, delivery["target"])
                    done(delivery, error)
                    if error:
                        tally.failures += 1
                        tally.errors.append(f"{error}; kept for the next run")
        except digests.MailUnreachable as exc:  # raised before any message: every mail waits
            for delivery in mails:
                done(delivery, str(exc))
            tally.failures += 1
            tally.errors.append(f"mail: {exc}; {len(mails)} deliveries kept for the next run")
    for delivery in (d for d in waiting if d["target"] in urls):
        error = digests.send_webhook(urls[delivery["target"]], rendered(delivery), delivery["id"])
        done(delivery, error)
        if error:
            tally.failures += 1
            tally.errors.append(f"{error}; kept for the next run")


def digest(settings: Settings, params: DigestParams | Mapping | None = None) -> RunResult:
    """The digest job, recorded as started by ``settings.trigger``. Parameters and targets are checked
    (``ConfigError``) before the database is opened; a delivery that failed raises
    :class:`~soundcharts_lib.jobs.result.JobFailed` (the run records which, the delivery waits for the next run)."""
    params = DigestParams.of(params)
    emails, hooks = _targets(settings, params)
    end = today_utc() - timedelta(days=1)
    start = end - timedelta(days=params.days - 1)
    if params.dry_run:
        if not Path(params.dry_run).parent.is_dir():
            raise vocab.BadValue(f"dry_run: no folder {str(Path(params.dry_run).parent)!r} to write the file in")
        return _dry_run(settings, params, start, end)
    if emails and not settings.smtp_host:
        raise ConfigError("SOUNDCHARTS_SMTP_HOST is not set: there is no SMTP server to mail the digest through")
    engine = migrated_engine(settings)
    tally, notes = DigestTally(period=period_text(start, end)), ()
    try:
        with job_lock(LOCK, settings):
            recorded = {"days": params.days, "to": emails, "webhooks": [digests.webhook_target(u) for u in hooks]}
            tally.run_id = start_run(engine, JOB, settings.trigger, recorded, notebook_path=settings.job_notebook)
            try:
                kept = digests.stored(engine, start, end)
                if kept is None:
                    data = digest_data(engine, start, end)
                    kept = digests.keep(engine, start, end, render(data, settings.public_url), data.counts())
                    tally.rendered = 1
                tally.entries, tally.exits, tally.moves, tally.alerts = (kept.counts.get(k, 0) for k in (
                    "entries", "exits", "moves", "alerts"))
                targets = emails + [digests.webhook_target(u) for u in hooks]
                digests.ensure_deliveries(engine, kept.id, targets)
                tally.already_sent = digests.sent_already(engine, kept.id, targets)
                _deliver(engine, settings, emails, hooks, tally)
                if not targets:
                    notes = ("no recipient: set SOUNDCHARTS_DIGEST_TO or SOUNDCHARTS_DIGEST_WEBHOOK (kept: a later run "
                             "naming one sends it)",)
            except Exception as exc:
                tally.failures += 1
                tally.errors.append(f"stopped by {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}")
                raise
            finally:
                finish_run(engine, tally.run_id, status=tally.status, counts=tally.counts(), errors=tally.errors)
    finally:
        engine.dispose()
    return tally.run_result(JOB, notes=notes, notebook=settings.job_notebook).raise_if_failed()
