"""Running a scheduled notebook: a lock per job, papermill, an archived notebook and a log file."""

from __future__ import annotations

import keyword
import logging
from datetime import UTC, datetime
from pathlib import Path

from soundcharts_lib import logs
from soundcharts_lib.config import Settings, configured_secrets
from soundcharts_lib.errors import ConfigError
from soundcharts_lib.home import scheduled_dir
from soundcharts_lib.jobs.lock import job_lock
from soundcharts_lib.jobs.result import JobFailed, RunResult

JOBS_DIR = scheduled_dir()
# the kernel process's own log (start-up notes, the interrupt papermill sends to shut it down) would reach the
# command's stderr: silenced; what the notebook prints and raises is in the archived notebook and the job's log
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


def job_names() -> list[str]:
    return sorted(p.stem for p in JOBS_DIR.glob("*.ipynb"))


def job_source(name: str) -> Path:
    """``scheduled/NAME.ipynb``; ``ConfigError`` when there is no such job."""
    source = JOBS_DIR / f"{name}.ipynb"
    if not source.is_file() or source.parent != JOBS_DIR:
        raise ConfigError(f"no such job {name!r} (jobs: {', '.join(job_names())})")
    return source


def job_parameters(name: str) -> list[str]:
    """The names of the job notebook's ``parameters`` cell, read by papermill's inspection."""
    import papermill

    return list(papermill.inspect_notebook(str(job_source(name))))


def check_params(name: str, params: dict) -> None:
    """``ConfigError`` (one line; nothing run, locked or archived) unless every key is a parameter of the job's
    notebook, a Python identifier and never code, and no value is a configured secret: a parameter is written into
    the archived notebook and the run's record, and jobs read credentials from the environment."""
    job_source(name)
    secrets = configured_secrets()
    for key, value in params.items():
        for held in (key, str(value)):
            holder = next((var for var, secret in secrets.items() if secret == held), None)
            if holder:  # named by the variable that holds it, never shown
                raise ConfigError(f"a parameter of job {name!r} is the secret in {holder}: jobs read credentials "
                                  "from the environment, never pass them as parameters")
    for key in params:
        if not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key):
            raise ConfigError(f"{str(key)[:40]!r} is not a parameter name (a Python identifier)")
    if not params:
        return
    known = job_parameters(name)
    unknown = [key for key in params if key not in known]
    if unknown:
        raise ConfigError(f"job {name!r} has no parameter {unknown[0]!r} (its parameters: {', '.join(known)})")


def archive_paths(settings: Settings, name: str, now: datetime | None = None) -> tuple[Path, Path]:
    now = now or datetime.now(UTC)
    folder = Path(settings.runs_dir) / now.strftime("%Y/%m/%d")
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{now.strftime('%H%M%S')}"
    nb = folder / f"{stem}.ipynb"
    n = 1
    while nb.exists():
        n += 1
        nb = folder / f"{stem}-{n}.ipynb"
    return nb, nb.with_suffix(".log")


def run_job(name: str, params: dict, *, settings: Settings, trigger: str = "manual",
            lock_scope: str | None = None) -> RunResult:
    """Execute ``scheduled/NAME.ipynb`` under the job's lock; archive it whether it fails or not. Its kernel reads
    ``settings``, with ``trigger`` and the archived notebook, from its own environment (this process's is left as
    it is). The notebook calls the job's function (e.g. :func:`~soundcharts_lib.jobs.sync.sync_charts`), which
    records the run; the result here names the archived notebook and its log, and a notebook that raised is a
    :class:`~soundcharts_lib.jobs.result.JobFailed`.

    ``lock_scope`` narrows the lock to one part of the job (e.g. one platform of ``sync_charts``), so parts can run
    side by side while each part still runs once at a time.
    """
    source = job_source(name)
    check_params(name, params)
    with job_lock(f"{name}.{lock_scope}" if lock_scope else name, settings):
        import papermill  # seconds of imports: without parameters to check, only once the lock is ours

        from soundcharts_lib.jobs.kernel import papermill_options

        notebook, log_path = archive_paths(settings, name)
        handler = logging.FileHandler(log_path)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(logs.SecretFilter())
        pm_log = logging.getLogger("papermill")
        pm_log.addHandler(handler)
        pm_log.setLevel(logging.INFO)
        kernel_env = settings.child_env(trigger=trigger, job_notebook=str(notebook))
        try:
            papermill.execute_notebook(str(source), str(notebook), parameters=params, cwd=str(JOBS_DIR),
                                       log_output=True, progress_bar=False, extra_arguments=KERNEL_ARGUMENTS,
                                       **papermill_options(kernel_env))
        except papermill.PapermillExecutionError as exc:  # the command reports it: the log files keep it
            pm_log.error("job %s failed: %s: %s", name, exc.ename, exc.evalue, extra=logs.FILE_ONLY)
            summary = f"job {name!r} failed: {exc.ename}: {exc.evalue} (see {notebook})"
            raise JobFailed(RunResult(name, "failed", summary, notebook=notebook, log=log_path)) from None
        finally:
            pm_log.removeHandler(handler)
            handler.close()
        return RunResult(name, "success", f"job {name} done: {notebook}", notebook=notebook, log=log_path)
