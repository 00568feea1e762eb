"""Alert delivery: each alert of a rule with a webhook is POSTed once as JSON, with bounded retries.

A connection error, a timeout, a 5xx or a 429 is retried after 0.5, 1, 2, ... seconds (at most ``max_backoff``;
a short ``Retry-After`` is honoured); another 4xx is not. When one URL still fails, its other alerts wait for the
next run, so a dead receiver costs one retry sequence per run; an alert is given up after ``MAX_ATTEMPTS``
attempts in all. Errors name the host only: webhook paths often hold tokens.

The body: ``{"id", "rule", "kind", "subject", "message", "text", "fired_at", "details"}`` (``text`` is
"subject: message", what chat webhooks display); the ``Idempotency-Key`` header is the same on every attempt.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from soundcharts_lib.db.models import utcnow
from soundcharts_lib.db.tables import ALERT, RULE

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
BATCH = 200
USER_AGENT = "soundcharts-workbench"


@dataclass
class Delivery:
    delivered: int = 0
    failed: int = 0  # alerts whose retries ran out in this run
    waiting: int = 0  # alerts not tried because their URL failed earlier in this run
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.delivered} delivered, {self.failed} failed, {self.waiting} waiting"


@dataclass
class _Outcome:
    ok: bool
    attempts: int
    error: str | None


def payload(alert: dict) -> dict:
    """The JSON body posted for one alert row (id, rule, kind, subject, message, fired_at, details)."""
    return {"id": alert["id"], "rule": alert["rule"], "kind": alert["kind"], "subject": alert["subject"],
            "message": alert["message"], "text": f"{alert['subject']}: {alert['message']}",
            "fired_at": alert["fired_at"].isoformat(timespec="seconds") + "Z", "details": alert["details"]}


def _host(url: str) -> str:
    return urlsplit(url).hostname or "webhook"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is reported as it is, never followed


_OPENER = urllib.request.build_opener(_NoRedirects)


def _send(url: str, data: bytes, headers: dict, timeout: float) -> tuple[int, str]:
    """One POST; ``(status, Retry-After header)``. Plain ``urllib``: unlike ``requests``/``urllib3`` it logs no
    request line, so the URL (and a token in its path) never reaches a log."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as resp:
            return resp.status, ""
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, exc.headers.get("Retry-After", "") if exc.headers else ""


def post(url: str, body: dict, *, retries: int = 3, backoff: float = 0.5, max_backoff: float = 8.0,
         timeout: float = 5.0, sleep: Callable[[float], None] = time.sleep, key: str | None = None) -> _Outcome:
    """POST ``body`` with up to ``retries`` retries; the outcome and how many attempts it took. ``key``: the
    ``Idempotency-Key`` (default: the alert's, from ``body["id"]``)."""
    data = json.dumps(body, default=str).encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "Idempotency-Key": key or f"soundcharts-alert-{body['id']}"}
    attempt = 0
    while True:
        attempt += 1
        wait = min(backoff * 2 ** (attempt - 1), max_backoff)
        try:
            status, after = _send(url, data, headers, timeout)
        except (OSError, http.client.HTTPException) as exc:  # URLError too; its text may hold the URL
            reason = getattr(exc, "reason", exc)
            error = (f"timed out after {timeout:g}s contacting {_host(url)}" if isinstance(reason, TimeoutError)
                     else f"{type(reason).__name__} contacting {_host(url)}")
            retryable = True
        else:
            if 200 <= status < 300:
                return _Outcome(True, attempt, None)
            error = f"HTTP {status} from {_host(url)}"
            retryable = status >= 500 or status == 429
            if status == 429 and after.isdigit():
                wait = min(float(after), max_backoff)
        if not retryable or attempt > retries:
            return _Outcome(False, attempt, error)
        sleep(wait)


def pending(engine: Engine, limit: int = BATCH) -> list[dict]:
    """Undelivered alerts of enabled rules with a webhook, oldest first, not given up yet."""
    q = (select(ALERT.c.id, ALERT.c.fired_at, ALERT.c.subject, ALERT.c.message, ALERT.c.details,
                ALERT.c.delivery_attempts, RULE.c.name.label("rule"), RULE.c.kind, RULE.c.webhook_url)
         .join(RULE, RULE.c.id == ALERT.c.rule_id)
         .where(ALERT.c.delivered_at.is_(None), RULE.c.webhook_url.is_not(None), RULE.c.enabled.is_(True),
                ALERT.c.delivery_attempts < MAX_ATTEMPTS)
         .order_by(ALERT.c.id).limit(limit))
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(q)]


def deliver(engine: Engine, *, retries: int = 3, backoff: float = 0.5, max_backoff: float = 8.0,
            timeout: float = 5.0, sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """Deliver :func:`pending` alerts, recording attempts, the last error and the delivery time on each."""
    result, dead = Delivery(), set()
    for alert in pending(engine):
        url = alert["webhook_url"]
        if url in dead:
            result.waiting += 1
            continue
        outcome = post(url, payload(alert), retries=retries, backoff=backoff, max_backoff=max_backoff,
                       timeout=timeout, sleep=sleep)
        with engine.begin() as conn:
            conn.execute(update(ALERT).where(ALERT.c.id == alert["id"]).values(
                delivery_attempts=ALERT.c.delivery_attempts + outcome.attempts, delivery_error=outcome.error,
                delivered_at=utcnow() if outcome.ok else None))
        if outcome.ok:
            result.delivered += 1
        else:
            dead.add(url)
            result.failed += 1
            result.errors.append(f"alert {alert['id']} ({alert['rule']}): {outcome.error}")
            log.warning("alert %s (%s) not delivered: %s", alert["id"], alert["rule"], outcome.error)
    return result
