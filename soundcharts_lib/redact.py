"""Masking secrets out of text: known secret values, bearer tokens, key / secret / password values and URL passwords.

It imports nothing of the project, so the settings can print themselves masked; :func:`soundcharts_lib.logs.mask`
adds the configured secrets and is what every message and URL goes through before it is printed or logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

PATTERNS = (
    # Authorization: Bearer <token>
    (re.compile(r"(\bbearer\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\1" + MASK),
    # x-api-key: v, 'x-api-key': 'v', api_key=v, client_secret=v, "access_token": "v", password=v
    (re.compile(r"((?:x-api-key|api[_-]?key|client[_-]?secret|access[_-]?token|refresh[_-]?token|password)"
                r"['\"]?\s*[:=]\s*['\"]?)[^\s'\",;&}]+", re.I), r"\1" + MASK),
    # scheme://user:password@host: the password runs to the last "@" of the URL's authority, so a raw "@" in it
    # is masked whole ("/" cannot be in it: it would end the authority)
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^/\s'\"]*(@)", re.I), r"\1" + MASK + r"\2"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` (4 characters or more) and everything :data:`PATTERNS` finds masked."""
    for value in secrets:
        if len(value) >= 4:
            text = text.replace(value, MASK)
    for pattern, repl in PATTERNS:
        text = pattern.sub(repl, text)
    return text
