"""Digests kept and delivered: a period's digest rendered once (``digest``), each target's delivery recorded
(``digest_delivery``), mail over one SMTP session, webhooks through :func:`soundcharts_lib.curation.webhooks.post`.

A target is an e-mail address, or ``webhook:`` and the SHA-256 of a webhook's URL (the URL is a secret: it is never
stored, logged or shown beyond its host). A delivery not sent yet (``sent_at`` NULL) is tried again by the next run
naming the same target, a sent one never again. Errors are one line and name a server by host and port only; the
SMTP password never reaches a message, a log line or the database.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, select, update
from sqlalchemy.engine import Engine

from soundcharts_lib.config import Settings
from soundcharts_lib.curation import webhooks
from soundcharts_lib.curation.alerts import shown_url
from soundcharts_lib.curation.digest_mail import Rendered, mail, webhook_body
from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.tables import DIG, DIGD
from soundcharts_lib.db.upsert import dialect_insert
from soundcharts_lib.errors import SoundchartsError

SMTP_TIMEOUT = 20.0  # seconds
ERROR_MAX = 500  # digest_delivery.last_error


class MailUnreachable(SoundchartsError):
    """No SMTP session: the server unreachable, its TLS or its login refused (one line, no password)."""


def webhook_target(url: str) -> str:
    """What a delivery to ``url`` is recorded as: ``webhook:`` and the SHA-256 of the URL."""
    return "webhook:" + hashlib.sha256(url.encode()).hexdigest()


@dataclass(frozen=True)
class Kept:
    """A stored digest: its row's id, what was rendered, and its figures' counts."""

    id: int
    rendered: Rendered
    counts: dict


def stored(engine: Engine, start: date, end: date) -> Kept | None:
    """The digest of the period, None when there is none yet."""
    with engine.connect() as conn:
        row = conn.execute(select(DIG.c.id, DIG.c.subject, DIG.c.html, DIG.c.summary)
                           .where(DIG.c.period_start == start, DIG.c.period_end == end)).first()
    if row is None:
        return None
    return Kept(row.id, Rendered.stored(row.subject, row.html, row.summary), row.summary.get("counts") or {})


def keep(engine: Engine, start: date, end: date, rendered: Rendered, counts: dict) -> Kept:
    """Store the period's digest unless one is stored already (another run's stays: what it sent is what a later
    run re-sends); the one stored."""
    with engine.begin() as conn:
        conn.execute(dialect_insert(conn, DIG).values(
            period_start=start, period_end=end, created_at=utcnow(), subject=rendered.subject[:500],
            html=rendered.html, summary=rendered.summary(counts)).on_conflict_do_nothing())
    return stored(engine, start, end)


def ensure_deliveries(engine: Engine, digest_id: int, targets: Sequence[str]) -> None:
    """A delivery row for each target of the digest (an existing one is kept as it is)."""
    if targets:
        with engine.begin() as conn:
            conn.execute(dialect_insert(conn, DIGD).values(
                [{"digest_id": digest_id, "target": t, "attempts": 0} for t in targets]).on_conflict_do_nothing())


def pending(engine: Engine, targets: Sequence[str]) -> list[dict]:
    """Deliveries to ``targets`` not sent yet, of every digest, the oldest period first: id, target, digest_id,
    period_start, period_end, attempts."""
    q = (select(DIGD.c.id, DIGD.c.target, DIGD.c.digest_id, DIG.c.period_start, DIG.c.period_end, DIGD.c.attempts)
         .join(DIG, DIG.c.id == DIGD.c.digest_id)
         .where(DIGD.c.sent_at.is_(None), DIGD.c.target.in_(list(targets)))
         .order_by(DIG.c.period_end, DIG.c.period_start, DIGD.c.id))
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(q)]


def sent_already(engine: Engine, digest_id: int, targets: Sequence[str]) -> int:
    """How many of ``targets`` the digest was sent to before."""
    q = select(DIGD.c.id).where(and_(DIGD.c.digest_id == digest_id, DIGD.c.target.in_(list(targets)),
                                     DIGD.c.sent_at.is_not(None)))
    with engine.connect() as conn:
        return len(conn.execute(q).all())


def record(engine: Engine, delivery_id: int, error: str | None) -> None:
    """One attempt of a delivery: sent now (``error`` None), or not, with why."""
    values = {"attempts": DIGD.c.attempts + 1, "last_error": error[:ERROR_MAX] if error else None}
    if error is None:
        values["sent_at"] = utcnow()
    with engine.begin() as conn:
        conn.execute(update(DIGD).where(DIGD.c.id == delivery_id, DIGD.c.sent_at.is_(None)).values(**values))


def _server(settings: Settings) -> str:
    return f"the SMTP server {settings.smtp_host}:{settings.smtp_port}"


@contextmanager
def smtp_session(settings: Settings) -> Iterator[smtplib.SMTP]:
    """A session with the configured SMTP server (TLS and login as configured); :class:`MailUnreachable` in one
    line when none could be opened."""
    try:
        if settings.smtp_security == "ssl":
            session = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT,
                                       context=ssl.create_default_context())
        else:
            session = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailUnreachable(f"cannot reach {_server(settings)} ({_why(exc)})") from None
    try:
        try:
            if settings.smtp_security == "starttls":
                session.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                session.login(settings.smtp_user, settings.smtp_password.get())
        except (OSError, smtplib.SMTPException) as exc:
            raise MailUnreachable(f"{_server(settings)} refused the session ({_why(exc)})") from None
        yield session
    finally:
        try:
            session.quit()
        except (OSError, smtplib.SMTPException):
            session.close()


def _why(exc: BaseException) -> str:
    """An SMTP or socket error in a few words: its class, and the server's code and reply when it sent one."""
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {' '.join(reply.split())[:200]}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipient refused: " + "; ".join(_why(smtplib.SMTPResponseException(code, reply))
                                                 for code, reply in exc.recipients.values())
    return type(exc).__name__ + (f": {exc.strerror}" if isinstance(exc, OSError) and exc.strerror else "")


def send_mail(session: smtplib.SMTP, rendered: Rendered, sender: str, recipient: str) -> str | None:
    """Send one digest to one address over ``session``; None when the server accepted it, else why not."""
    try:
        session.send_message(mail(rendered, sender, recipient))
    except (OSError, smtplib.SMTPException) as exc:
        return f"mail to {recipient}: {_why(exc)}"
    return None


def send_webhook(url: str, rendered: Rendered, delivery_id: int) -> str | None:
    """POST one digest to a webhook (retried on 5xx, 429 and network errors); None when it answered 2xx."""
    outcome = webhooks.post(url, webhook_body(rendered), key=f"soundcharts-digest-{delivery_id}")
    return None if outcome.ok else f"webhook {shown_url(url)}: {outcome.error}"
