"""The admin token, compared in constant time, and logins limited per client address.

Jupyter Server's ``PasswordIdentityProvider`` (which Voila uses) compares the token with ``==`` in the ``?token=``
/ ``Authorization: token`` check and in the login form. Here both use ``hmac.compare_digest``, and a client address
that failed ``MAX_FAILURES`` times within a minute gets 429 for every further attempt in that minute (the right
token included, so guessing cannot go on); requests with a valid login cookie are not attempts and go on.
"""

from __future__ import annotations

import hmac
import time
import typing as t

from jupyter_server.auth.identity import PasswordIdentityProvider, User
from tornado import web

MAX_FAILURES = 10
WINDOW_SECONDS = 60.0


class LoginLimiter:
    """Failures per client address in fixed one-minute windows (the window starts at the first failure)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = WINDOW_SECONDS, clock=time.monotonic):
        self.max_failures, self.window, self.clock = max_failures, window, clock
        self._failures: dict[str, tuple[float, int]] = {}  # address -> (window start, failures)

    def _current(self, address: str) -> tuple[float, int]:
        start, count = self._failures.get(address, (0.0, 0))
        return (start, count) if self.clock() - start < self.window else (self.clock(), 0)

    def blocked(self, address: str) -> bool:
        return self._current(address)[1] >= self.max_failures

    def failed(self, address: str) -> None:
        now = self.clock()
        self._failures = {a: w for a, w in self._failures.items() if now - w[0] < self.window}  # forget old windows
        start, count = self._current(address)
        self._failures[address] = (start, count + 1)


def same_secret(given: str, expected: str) -> bool:
    """``given == expected`` in constant time (for a given length); never true for an empty ``expected``."""
    return bool(expected) and hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                                                  expected.encode("utf-8", "surrogatepass"))


class WorkbenchIdentityProvider(PasswordIdentityProvider):
    """Voila's identity provider with the token compared in constant time and attempts limited (module docstring).
    No password can be set: the token is the only secret."""

    limiter = LoginLimiter()  # one per server process

    def _attempt(self, handler: web.RequestHandler, given: str) -> bool:
        """Whether ``given`` is the token; 429 while the client's address is blocked; a failure is counted."""
        address = handler.request.remote_ip or "unknown"
        if self.limiter.blocked(address):
            raise web.HTTPError(429, "too many failed logins from this address; wait a minute")
        if same_secret(given, self.token):
            return True
        self.limiter.failed(address)
        self.log.warning("failed admin login from %s", address)
        return False

    async def get_user_token(self, handler: web.RequestHandler) -> User | None:
        """The user of a request carrying the token (``?token=`` or ``Authorization: token``), else ``None``."""
        given = self.get_token(handler)
        if not self.token or not given or not self._attempt(handler, given):
            return None
        user = self.get_user_cookie(handler)
        if isinstance(user, t.Awaitable):
            user = await user
        return user or self.generate_anonymous_user(handler)

    def process_login_form(self, handler: web.RequestHandler) -> User | None:
        """The login page's form: the token typed as the password."""
        if not self.auth_enabled:
            return self.generate_anonymous_user(handler)
        if self._attempt(handler, handler.get_argument("password", default="")):
            return self.generate_anonymous_user(handler)
        return None
