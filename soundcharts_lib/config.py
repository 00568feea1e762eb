"""Settings: every ``SOUNDCHARTS_*`` variable the package reads, declared once as a field of :class:`Settings` (its
name, type, default and one line of help), read from the environment (and an optional ``.env``: the checkout's,
else the data folder's, see :mod:`.home`) into one object that is passed down.

No other module reads a setting from the process environment (``tests/test_settings_table.py`` holds that, and
that the README's configuration table lists these variables with these defaults). A child process that reads
settings (a job's kernel, the dashboard server and its kernels) gets them in its environment
(:meth:`Settings.child_env`) and reads them back with :meth:`Settings.from_env`. Secrets are wrapped in
:class:`Secret` so they never show in a repr, a log line or a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from soundcharts_lib import home
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.redact import redact

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_API_URL = "https://customer.api.soundcharts.com"
DEFAULT_AUTH_URL = "https://account.soundcharts.com/oauth/token"
DEFAULT_LOG_FILE = Path("logs", "soundcharts.log")  # in the data folder
# Who starts a job run, as ``SyncRun.trigger`` records it: ``run-job`` by hand (manual), from cron or Airflow;
# the admin area; the other commands (cli); a job notebook opened by hand (notebook).
TRIGGERS = ("manual", "cron", "airflow", "admin", "cli", "notebook")


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def get(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self):  # never pickled into a notebook or a cache with its value
        raise TypeError("Secret values cannot be pickled")


def default_db_url(env: Mapping[str, str] | None = None) -> str:
    return f"sqlite:///{home.data_dir(env) / 'soundcharts.db'}"


def default_cache_path(db_url: str, env: Mapping[str, str] | None = None) -> str:
    """The HTTP cache's path: ``http_cache`` beside a SQLite database file, else (PostgreSQL, in-memory SQLite)
    in the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``), so it is never in the checkout when the
    database is elsewhere."""
    head, sep, rest = db_url.partition(":///")
    database = rest.split("?")[0].removeprefix("file:") if sep and head.startswith("sqlite") else ""
    if database and database != ":memory:":
        return str(Path(database).absolute().parent / "http_cache")
    env = os.environ if env is None else env
    cache_home = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return str(cache_home / "soundcharts-workbench" / "http_cache")


def _load_dotenv() -> None:
    """The project's ``.env`` into this process's environment (a variable already set wins), so the children it
    starts see it too."""
    path = home.env_file()
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


# --- how a variable's text becomes its value: a parser gets (name, text), text never empty; None means unset -------

def _text(name: str, raw: str) -> str:
    return raw


def _whole(minimum: int = 0) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {value}")
        return value
    return parse


def _number(minimum: float = 0.0) -> Callable[[str, str], float]:
    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
        if value < minimum:
            raise ConfigError(f"{name} must be at least {minimum}, got {value}")
        return value
    return parse


def _one_of(*choices: str) -> Callable[[str, str], str | None]:
    def parse(name: str, raw: str) -> str | None:
        value = raw.strip().lower()
        if value and value not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return value or None
    return parse


def _http_url(name: str, raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https://, got {raw!r}")
    return raw.rstrip("/")


def _secret(name: str, raw: str) -> Secret:
    return Secret(raw)


def _flag(name: str, raw: str) -> bool:
    return raw == "1"


def _names(name: str, raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _as_text(value: Any) -> str:
    """A value as its variable's text (what :func:`_text` and the other parsers read back)."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, Secret):
        return value.get()
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, one line of help, how its text becomes the value, how its default is
    worked out from the environment when it depends on it, and how the README's table shows a default that is not
    a plain value."""

    name: str
    help: str
    parse: Callable[[str, str], Any] = _text
    derive: Callable[[Mapping[str, str], dict[str, Any]], Any] | None = None
    shown: str | None = None


def setting(name: str, default: Any, help: str, *, parse: Callable[[str, str], Any] = _text,
            derive: Callable[[Mapping[str, str], dict[str, Any]], Any] | None = None,
            factory: Callable[[], Any] | None = None, shown: str | None = None) -> Any:
    """A field of :class:`Settings` read from the variable ``name``. ``derive(env, values read so far)`` works out
    a default that depends on the environment (``factory`` is the same default for a ``Settings(...)`` made by
    hand)."""
    var = Variable(name, help, parse, derive, shown)
    if factory is not None:
        return field(default_factory=factory, metadata={"variable": var})
    return field(default=default, metadata={"variable": var})


def _log_file(env: Mapping[str, str] | None = None) -> str:
    return str(home.data_dir(env) / DEFAULT_LOG_FILE)


@dataclass(frozen=True)
class Settings:
    """Everything configurable, one field a variable. Build with :meth:`from_env`; secrets never print."""

    api_url: str = setting("SOUNDCHARTS_API_URL", DEFAULT_API_URL,
                           "API base URL (a password in it is shown as user:***@host)", parse=_http_url)
    app_id: str = setting("SOUNDCHARTS_APP_ID", "", "legacy header credentials: the app id")
    api_key: Secret = setting("SOUNDCHARTS_API_KEY", Secret(""), "legacy header credentials: the API key",
                              parse=_secret)
    client_id: str = setting("SOUNDCHARTS_CLIENT_ID", "", "OAuth2 client id (used instead when set with the secret)")
    client_secret: Secret = setting("SOUNDCHARTS_CLIENT_SECRET", Secret(""), "OAuth2 client secret", parse=_secret)
    auth_url: str = setting("SOUNDCHARTS_AUTH_URL", DEFAULT_AUTH_URL, "OAuth2 token endpoint")
    team_id: str = setting("SOUNDCHARTS_TEAM_ID", "", "team id sent with the OAuth2 token request")
    home_dir: str = setting("SOUNDCHARTS_HOME", "", "the data folder when not running from a checkout",
                            shown="the user data folder")
    db_url: str = setting("SOUNDCHARTS_DB_URL", None, "SQLAlchemy URL of the database (sqlite:///… or postgresql://…)",
                          derive=lambda env, _: default_db_url(env), factory=default_db_url,
                          shown="`sqlite:///<project>/data/soundcharts.db`")
    pg_partitioning: str = setting("SOUNDCHARTS_PG_PARTITIONING", "",
                                   "`monthly` partitions the big PostgreSQL tables, `off` keeps them plain",
                                   parse=_one_of("off", "monthly"), shown="off")
    rate_limit_per_minute: int = setting("SOUNDCHARTS_RATE_LIMIT", 4500, "client-side API calls per minute",
                                         parse=_whole(minimum=1))
    timeout: float = setting("SOUNDCHARTS_TIMEOUT", 30.0, "seconds per API request", parse=_number(minimum=0.1))
    max_retries: int = setting("SOUNDCHARTS_MAX_RETRIES", 5, "retries of a failed API request (5xx, timeouts, 429)",
                               parse=_whole())
    max_retry_seconds: float = setting("SOUNDCHARTS_MAX_RETRY_SECONDS", 120.0, "longest wait between two retries",
                                       parse=_number())
    max_ratelimit_wait: float = setting("SOUNDCHARTS_MAX_RATELIMIT_WAIT", 90.0,
                                        "longest Retry-After the client waits out before failing", parse=_number())
    cache_backend: str = setting("SOUNDCHARTS_CACHE_BACKEND", "sqlite",
                                 "HTTP cache of API responses: sqlite, filesystem, memory, or off")
    cache_path: str = setting("SOUNDCHARTS_CACHE_PATH", None, "where the HTTP cache lives",
                              derive=lambda env, values: default_cache_path(values["db_url"], env),
                              factory=lambda: default_cache_path(default_db_url()),
                              shown="`http_cache` beside a SQLite database file")
    cache_expire_seconds: int = setting("SOUNDCHARTS_CACHE_EXPIRE", 7 * 24 * 3600,
                                        "seconds a cached response stays fresh", parse=_whole())
    runs_dir: str = setting("SOUNDCHARTS_RUNS_DIR", None, "where job notebooks and logs are archived",
                            derive=lambda env, _: str(home.runs_dir(env)), factory=lambda: str(home.runs_dir()),
                            shown="`<project>/runs`")
    runs_retention_days: int = setting("SOUNDCHARTS_RUNS_RETENTION_DAYS", 90,
                                       "days archived job notebooks and logs are kept", parse=_whole(minimum=1))
    retention_rankings_days: int | None = setting("SOUNDCHARTS_RETENTION_RANKINGS_DAYS", None,
                                                  "days of chart rankings (with their entries) maintenance keeps",
                                                  parse=_whole(minimum=1), shown="keep all")
    retention_audience_days: int | None = setting("SOUNDCHARTS_RETENTION_AUDIENCE_DAYS", None,
                                                  "days of audience points maintenance keeps",
                                                  parse=_whole(minimum=1), shown="keep all")
    retention_runs_days: int | None = setting("SOUNDCHARTS_RETENTION_RUNS_DAYS", None,
                                              "days of job run records maintenance keeps (a job's latest stays)",
                                              parse=_whole(minimum=1), shown="keep all")
    retention_audit_days: int | None = setting("SOUNDCHARTS_RETENTION_AUDIT_DAYS", None,
                                               "days of audit events maintenance keeps", parse=_whole(minimum=1),
                                               shown="keep all")
    log_level: str = setting("SOUNDCHARTS_LOG_LEVEL", "", "DEBUG, INFO, WARNING, ERROR or CRITICAL",
                             shown="`WARNING`")
    log_file: str = setting("SOUNDCHARTS_LOG_FILE", None, "the log file, rotated; off for none",
                            derive=lambda env, _: _log_file(env), factory=_log_file,
                            shown="`<project>/data/logs/soundcharts.log`")
    log_max_bytes: int = setting("SOUNDCHARTS_LOG_MAX_BYTES", 5_000_000, "size at which the log file rotates",
                                 parse=_whole())
    log_backups: int = setting("SOUNDCHARTS_LOG_BACKUPS", 5, "rotated log files kept", parse=_whole())
    admin_token: Secret = setting("SOUNDCHARTS_ADMIN_TOKEN", Secret(""), "the admin area's token, 16+ characters",
                                  parse=_secret, shown="a new one at each start")
    allowed_hosts: tuple[str, ...] = setting("SOUNDCHARTS_ALLOWED_HOSTS", (),
                                             "host names (comma-separated) the servers answer to besides loopback",
                                             parse=_names, shown="`127.0.0.1`, `localhost`, `::1` only")
    admin_name: str = setting("SOUNDCHARTS_ADMIN_NAME", "admin",
                              "who the audit log names for admin actions without an X-Soundcharts-User header")
    snapshots: str = setting("SOUNDCHARTS_SNAPSHOTS", "on",
                             "`on`: viewer pages served as snapshots (light pages drawn without Voila's front end), "
                             "a kernel only for a visitor who needs Python; `voila`: snapshots drawn by Voila's front "
                             "end; `off`: a kernel per visit", parse=_one_of("on", "voila", "off"))
    snapshot_minutes: int = setting("SOUNDCHARTS_SNAPSHOT_MINUTES", 15,
                                    "minutes a snapshot page is served before it is rendered again (a sync renders "
                                    "it again at once)", parse=_whole(minimum=1))
    snapshot_pages: int = setting("SOUNDCHARTS_SNAPSHOT_PAGES", 100,
                                  "snapshot pages kept, and rendered again after each sync", parse=_whole(minimum=1))
    live_kernels: int = setting("SOUNDCHARTS_LIVE_KERNELS", 0,
                                "visitors' kernels at once (live pages, snapshot pages taken live); more visitors "
                                "get a busy page that retries; 0: 4 per core", parse=_whole(), shown="0 (4 per core)")
    public_url: str = setting("SOUNDCHARTS_PUBLIC_URL", "http://127.0.0.1:8866",
                              "the dashboards' address as their readers reach it (the digest's links)",
                              parse=_http_url)
    smtp_host: str = setting("SOUNDCHARTS_SMTP_HOST", "", "the SMTP server the digest is mailed through")
    smtp_port: int = setting("SOUNDCHARTS_SMTP_PORT", 587, "its port", parse=_whole(minimum=1))
    smtp_security: str = setting("SOUNDCHARTS_SMTP_SECURITY", "starttls",
                                 "`starttls`, `ssl` (SMTPS) or `off` (plain: a relay on the same host)",
                                 parse=_one_of("starttls", "ssl", "off"))
    smtp_user: str = setting("SOUNDCHARTS_SMTP_USER", "", "SMTP login (none: no login)")
    smtp_password: Secret = setting("SOUNDCHARTS_SMTP_PASSWORD", Secret(""), "SMTP password", parse=_secret)
    smtp_from: str = setting("SOUNDCHARTS_SMTP_FROM", "soundcharts@localhost", "the digest's From address")
    digest_to: tuple[str, ...] = setting("SOUNDCHARTS_DIGEST_TO", (),
                                         "addresses the digest is mailed to without --to (comma-separated)",
                                         parse=_names)
    digest_webhook: Secret = setting("SOUNDCHARTS_DIGEST_WEBHOOK", Secret(""),
                                     "a Slack-compatible webhook the digest is posted to without --webhook",
                                     parse=_secret)
    db_readonly: bool = setting("SOUNDCHARTS_DB_READONLY", False,
                                "1: the database opened read-only (set by serve for the viewers' kernels)",
                                parse=_flag, shown="unset")
    trigger: str = setting("SOUNDCHARTS_TRIGGER", "notebook",
                           "who started a job run (set by run-job for its notebook's kernel)",
                           parse=_one_of(*TRIGGERS))
    job_notebook: str = setting("SOUNDCHARTS_JOB_NOTEBOOK", "",
                                "the archived notebook a run-job kernel writes (set by run-job)")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
        """Every variable read from ``env`` (default: this process's environment, the project's ``.env`` loaded
        into it first unless ``dotenv`` is false); unset or empty means the default. A bad value is a one-line
        ``ConfigError`` naming its variable."""
        if env is None:
            if dotenv:
                _load_dotenv()
            env = os.environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            var = f.metadata["variable"]
            raw = env.get(var.name)
            value = var.parse(var.name, raw) if raw else None
            if value is None:
                value = var.derive(env, values) if var.derive else _default(f)
            values[f.name] = value
        return cls(**values)

    def child_env(self, **values: Any) -> dict[str, str]:
        """The environment of a child process that reads settings (a job's kernel): this process's, with every
        variable set to this object's value, ``values`` (by field name) on top, so the child's :meth:`from_env`
        reads what this object holds. This process's environment is left as it is."""
        chosen = replace(self, **values)
        return {**os.environ, **{var.name: _as_text(getattr(chosen, name)) for name, var in VARIABLES.items()}}

    @property
    def has_credentials(self) -> bool:
        return bool(self.app_id and self.api_key) or bool(self.client_id and self.client_secret)

    @property
    def retention(self) -> dict[str, int | None]:
        """Days kept per table by ``maintenance cleanup`` (None keeps all)."""
        return {"rankings": self.retention_rankings_days, "audience": self.retention_audience_days,
                "runs": self.retention_runs_days, "audit": self.retention_audit_days}

    def __repr__(self) -> str:  # secrets print as Secret('***'), URL passwords as user:***@host
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        shown = ", ".join(f"{name}={redact(v) if isinstance(v, str) else v!r}" for name, v in values.items())
        return f"Settings({shown})"


def _default(f) -> Any:
    return f.default_factory() if f.default is MISSING else f.default


VARIABLES: dict[str, Variable] = {f.name: f.metadata["variable"] for f in fields(Settings)}
SECRET_ENV = tuple(var.name for name, var in VARIABLES.items() if var.parse is _secret)
SECRET_NAME = re.compile(r"(KEY|SECRET|TOKEN|PASSWORD)$")


def environment(**extra: str) -> dict[str, str]:
    """A copy of this process's environment plus ``extra``: what a child process gets (e.g. ``pg_dump``, the
    dashboard server before :func:`soundcharts_lib.web.launch.server_env` trims it)."""
    return {**os.environ, **extra}


def take_admin_token() -> Secret:
    """The admin token this process (the admin server) was started with, emptied in its environment so no kernel
    it starts inherits it (empty, not removed: a kernel loading the project's ``.env`` must not get it back)."""
    name = VARIABLES["admin_token"].name
    token = Secret(os.environ.get(name, ""))
    os.environ[name] = ""
    return token


def configured_secrets(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The secret values set, by the variable holding them: the API key, the client secret, the admin token, and the
    password of every ``SOUNDCHARTS_*_URL`` (the database's, a proxy's). ``env`` defaults to this process's, read
    at each call."""
    from urllib.parse import unquote, urlsplit

    env = os.environ if env is None else env
    found = {name: env[name] for name in SECRET_ENV if env.get(name)}
    for name, value in env.items():
        if name.startswith("SOUNDCHARTS_") and name.endswith("_URL") and value:
            try:
                password = urlsplit(value).password
            except ValueError:  # not a URL at all: it holds no password
                continue
            if password:
                found[name] = unquote(password)
    return found


def secret_named_values() -> list[str]:
    """The values of this process's variables named like a secret (``…KEY``, ``…SECRET``, ``…TOKEN``,
    ``…PASSWORD``, whoever set them): what a dashboard's message must never show."""
    return [value for name, value in os.environ.items() if SECRET_NAME.search(name)]
