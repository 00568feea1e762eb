"""One logging configuration for the CLI, jobs and dashboards: a level, a rotating file, secrets masked.

    SOUNDCHARTS_LOG_LEVEL      DEBUG / INFO / WARNING (default) / ERROR / CRITICAL
    SOUNDCHARTS_LOG_FILE       default logs/soundcharts.log in the data folder (:mod:`.home`); "off" for none
    SOUNDCHARTS_LOG_MAX_BYTES  size at which the file rotates (default 5 MB)
    SOUNDCHARTS_LOG_BACKUPS    rotated files kept (default 5)

read through :class:`soundcharts_lib.config.Settings` (given, or loaded once by :func:`setup`).

Every record reaching these handlers passes :class:`SecretFilter` first, so no credential, bearer token or
database password is ever written, whatever a library logs.
"""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from soundcharts_lib.config import Settings, configured_secrets
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.redact import redact

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
CONSOLE_FORMAT = "%(levelname)s %(name)s: %(message)s"
FILE_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"

# Third-party loggers whose INFO records are plumbing, not news (Alembic's "Context impl SQLiteImpl.",
# "Will assume non-transactional DDL."): shown only at DEBUG.
CHATTY = ("alembic",)


def mask(text: str) -> str:
    """``text`` with the configured secrets, bearer tokens, key/secret/password values and URL passwords masked
    (``scheme://user:***@host``): what any URL or message goes through before it is printed or logged."""
    return redact(text, configured_secrets().values())


class SecretFilter(logging.Filter):
    """Rewrites each record's message, traceback and stack text with :func:`mask` (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


def _level(level: str | int | None, settings: Settings) -> int:
    raw = level if level is not None else settings.log_level or "WARNING"
    if isinstance(raw, int):
        return raw
    if raw.upper() not in LEVELS:
        raise ConfigError(f"log level must be one of {', '.join(LEVELS)}, got {raw!r}")
    return getattr(logging, raw.upper())


def log_file(file: str | Path | None = None, settings: Settings | None = None) -> Path | None:
    """The log file in use: ``file``, else the settings' (``SOUNDCHARTS_LOG_FILE``, else the default); None when
    "off"."""
    if file is None:
        file = (settings or Settings.from_env()).log_file
    raw = str(file)
    return None if raw.lower() in ("off", "none", "-") else Path(raw)


def _file_handler(path: Path, settings: Settings) -> RotatingFileHandler:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return RotatingFileHandler(path, maxBytes=settings.log_max_bytes, backupCount=settings.log_backups,
                                   encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the log file {path}: {exc.strerror} (set SOUNDCHARTS_LOG_FILE)") from None


FILE_ONLY = {"console": False}  # ``extra=`` of a record the log file keeps and stderr does not show


def _not_file_only(record: logging.LogRecord) -> bool:
    return getattr(record, "console", True) is not False


def setup(level: str | int | None = None, file: str | Path | None = None, *, console: bool = True,
          console_level: str | int | None = None, settings: Settings | None = None) -> None:
    """Configure the root logger: stderr (unless ``console=False``, e.g. in a dashboard) and a rotating file.

    ``level`` and ``file`` default to the settings' (``settings``, else read from the environment: a job
    notebook's call). stderr shows records from ``console_level`` (default: ``level``) up, except those logged with
    ``extra=FILE_ONLY``. Safe to call again: the handlers of a previous call are replaced, never added twice.
    """
    settings = settings or Settings.from_env()
    lvl = _level(level, settings)
    path = log_file(file, settings)
    handlers: list[logging.Handler] = []
    if path is not None:
        handlers.append(_file_handler(path, settings))
        handlers[-1].setFormatter(logging.Formatter(FILE_FORMAT))
        handlers[-1].setLevel(lvl)
    if console:
        handlers.append(logging.StreamHandler())
        handlers[-1].setFormatter(logging.Formatter(CONSOLE_FORMAT))
        handlers[-1].setLevel(lvl if console_level is None else _level(console_level, settings))
        handlers[-1].addFilter(_not_file_only)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_soundcharts", False)]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        handler._soundcharts = True
        handler.addFilter(SecretFilter())
        root.addHandler(handler)
    root.setLevel(min([h.level for h in handlers], default=lvl))
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING)
