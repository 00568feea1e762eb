"""Settings from the environment (and an optional ``.env`` in the project root).

One place for defaults. Secrets are wrapped in :class:`Secret` so they never show in a repr,
a log line or a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from soundcharts_lib import home
from soundcharts_lib.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_API_URL = "https://customer.api.soundcharts.com"
DEFAULT_AUTH_URL = "https://account.soundcharts.com/oauth/token"
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


def default_db_url(env: dict | None = None) -> str:
    return f"sqlite:///{home.data_dir(env) / 'soundcharts.db'}"


def default_cache_path(db_url: str, env: dict | None = None) -> str:
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
    path = home.env_file()
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


def _int(env: dict, name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: dict, name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _choice(env: dict, name: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or "").strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(c for c in choices if c)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Build with :meth:`from_env`; secrets never print."""

    api_url: str = DEFAULT_API_URL
    app_id: str = ""
    api_key: Secret = field(default_factory=lambda: Secret(""))
    client_id: str = ""
    client_secret: Secret = field(default_factory=lambda: Secret(""))
    auth_url: str = DEFAULT_AUTH_URL
    team_id: str = ""
    db_url: str = field(default_factory=default_db_url)
    rate_limit_per_minute: int = 4500
    timeout: float = 30.0
    max_retries: int = 5
    max_retry_seconds: float = 120.0
    max_ratelimit_wait: float = 90.0
    cache_backend: str = "sqlite"
    cache_path: str = field(default_factory=lambda: default_cache_path(default_db_url()))
    cache_expire_seconds: int = 7 * 24 * 3600
    runs_dir: str = field(default_factory=lambda: str(home.runs_dir()))
    runs_retention_days: int = 90
    pg_partitioning: str = ""
    trigger: str = "notebook"  # set by ``run-job`` for its notebook's kernel
    job_notebook: str = ""  # the archived notebook a ``run-job`` kernel writes, set by ``run-job``

    @classmethod
    def from_env(cls, env: dict | None = None, *, dotenv: bool = True) -> Settings:
        if env is None:
            if dotenv:
                _load_dotenv()
            env = dict(os.environ)
        api_url = env.get("SOUNDCHARTS_API_URL") or DEFAULT_API_URL
        if not api_url.startswith(("http://", "https://")):
            raise ConfigError(f"SOUNDCHARTS_API_URL must start with http:// or https://, got {api_url!r}")
        db_url = env.get("SOUNDCHARTS_DB_URL") or default_db_url(env)
        return cls(
            api_url=api_url.rstrip("/"),
            app_id=env.get("SOUNDCHARTS_APP_ID", ""),
            api_key=Secret(env.get("SOUNDCHARTS_API_KEY", "")),
            client_id=env.get("SOUNDCHARTS_CLIENT_ID", ""),
            client_secret=Secret(env.get("SOUNDCHARTS_CLIENT_SECRET", "")),
            auth_url=env.get("SOUNDCHARTS_AUTH_URL") or DEFAULT_AUTH_URL,
            team_id=env.get("SOUNDCHARTS_TEAM_ID", ""),
            db_url=db_url,
            rate_limit_per_minute=_int(env, "SOUNDCHARTS_RATE_LIMIT", 4500, minimum=1),
            timeout=_float(env, "SOUNDCHARTS_TIMEOUT", 30.0, minimum=0.1),
            max_retries=_int(env, "SOUNDCHARTS_MAX_RETRIES", 5),
            max_retry_seconds=_float(env, "SOUNDCHARTS_MAX_RETRY_SECONDS", 120.0),
            max_ratelimit_wait=_float(env, "SOUNDCHARTS_MAX_RATELIMIT_WAIT", 90.0),
            cache_backend=env.get("SOUNDCHARTS_CACHE_BACKEND") or "sqlite",
            cache_path=env.get("SOUNDCHARTS_CACHE_PATH") or default_cache_path(db_url, env),
            cache_expire_seconds=_int(env, "SOUNDCHARTS_CACHE_EXPIRE", 7 * 24 * 3600),
            runs_dir=env.get("SOUNDCHARTS_RUNS_DIR") or str(home.runs_dir(env)),
            runs_retention_days=_int(env, "SOUNDCHARTS_RUNS_RETENTION_DAYS", 90, minimum=1),
            pg_partitioning=_choice(env, "SOUNDCHARTS_PG_PARTITIONING", ("", "off", "monthly")),
            trigger=_choice(env, "SOUNDCHARTS_TRIGGER", ("", *TRIGGERS)) or "notebook",
            job_notebook=env.get("SOUNDCHARTS_JOB_NOTEBOOK", ""),
        )

    @property
    def has_credentials(self) -> bool:
        return bool(self.app_id and self.api_key) or bool(self.client_id and self.client_secret)

    def __repr__(self) -> str:  # secrets print as Secret('***'), URL passwords as user:***@host
        from soundcharts_lib.logs import mask

        values = {f.name: getattr(self, f.name) for f in fields(self)}
        shown = ", ".join(f"{name}={mask(v) if isinstance(v, str) else v!r}" for name, v in values.items())
        return f"Settings({shown})"


SECRET_ENV = ("SOUNDCHARTS_API_KEY", "SOUNDCHARTS_CLIENT_SECRET", "SOUNDCHARTS_ADMIN_TOKEN")


def configured_secrets(env: dict | None = None) -> dict[str, str]:
    """The secret values set, by the variable holding them: the API key, the client secret, the admin token, and the
    password of every ``SOUNDCHARTS_*_URL`` (the database's, a proxy's)."""
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
