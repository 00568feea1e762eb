"""Maintenance: retention cleanup per table, integrity checks and safe repairs, archived-run pruning, the job.

Retention (days kept; unset keeps everything): ``SOUNDCHARTS_RETENTION_RANKINGS_DAYS`` (chart rankings with their
entries), ``..._AUDIENCE_DAYS`` (audience points), ``..._RUNS_DAYS`` (job run records; the latest run of each job
is always kept), ``..._AUDIT_DAYS`` (audit events); archived job notebooks follow
``SOUNDCHARTS_RUNS_RETENTION_DAYS`` (default 90). Tracks, charts and platforms are never deleted.
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Table, exists, func, select, update
from sqlalchemy.engine import Engine

from soundcharts_lib import vocab
from soundcharts_lib.config import Settings
from soundcharts_lib.db import chart_rollup
from soundcharts_lib.db.models import (
    Base,
    utcnow,
)
from soundcharts_lib.db.runs import RUNNING, dead_runs, finish_run, interrupt_dead_runs, start_run
from soundcharts_lib.db.tables import AUD, AUDIT, RUN, C, E, P, R, T
from soundcharts_lib.jobs import rollups
from soundcharts_lib.jobs.params import Params, flag, param
from soundcharts_lib.jobs.result import RunResult

TABLES = ("rankings", "audience", "runs", "audit")  # Settings.retention's keys
BATCH = 500  # rankings (with their entries) deleted per transaction; other rows: ROWS_PER_RANKING times as many
ROWS_PER_RANKING = 20
EXAMPLES = 5


def prune_archives(runs_dir: str | Path, retention_days: int, *, now: float | None = None,
                   dry_run: bool = False) -> list[Path]:
    """Delete archived notebooks and logs under ``runs_dir`` older than ``retention_days``; return them.

    Locks and anything outside the ``YYYY/MM/DD`` folders are left alone; emptied folders are removed.
    ``dry_run`` only lists what would go.
    """
    root = Path(runs_dir)
    cutoff = (now or time.time()) - retention_days * 86400
    removed = [path for path in sorted(root.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*"))
               if path.suffix in (".ipynb", ".log") and path.stat().st_mtime < cutoff]
    if dry_run:
        return removed
    for path in removed:
        path.unlink()
    for pattern in ("[0-9]*/[0-9]*/[0-9]*", "[0-9]*/[0-9]*", "[0-9]*"):
        for folder in root.glob(pattern):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    return removed


def record_audit(engine: Engine, action: str, outcome: str, details: dict, *, target: str | None = None,
                 trigger: str = "cli") -> None:
    """One audit event; the actor is the trigger (cli, cron, ...) and the OS user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    actor = f"{trigger}:{user}"
    with engine.begin() as conn:
        conn.execute(AUDIT.insert().values(at=utcnow(), actor=actor, action=action, target=target,
                                           outcome=outcome, details=details))


# --- retention cleanup ---------------------------------------------------------------------------------------------

def retention_policy(settings: Settings, *, older_than: int | None = None,
                     overrides: dict | None = None) -> dict[str, int | None]:
    """Days kept per target (``TABLES`` and ``archives``); None keeps everything.

    A per-target override wins, then ``older_than`` (every target), then the settings.
    """
    days: dict[str, int | None] = dict(settings.retention)
    days["archives"] = settings.runs_retention_days
    if older_than is not None:
        days = dict.fromkeys(days, older_than)
    days.update({t: d for t, d in (overrides or {}).items() if d is not None})
    return days


@dataclass
class CleanupResult:
    retention: dict[str, int | None]
    deleted: dict[str, int]
    dry_run: bool = False

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        done = ", ".join(f"{n} {what}" for what, n in self.deleted.items())
        kept = ", ".join(f"{t} {'all' if d is None else f'{d} days'}" for t, d in self.retention.items())
        return f"{verb} {done} (kept: {kept})"


def _cutoffs(retention: dict[str, int | None]) -> dict[str, object]:
    now = utcnow()
    return {t: (now.date() if t in ("rankings", "audience") else now) - timedelta(days=d)
            for t, d in retention.items() if d is not None and t in TABLES}


def _old_rows(table: str, cutoff) -> tuple[Table, object]:
    """(table, condition) selecting what retention removes from ``table``."""
    if table == "rankings":
        return R, R.c.ranking_date < cutoff
    if table == "audience":
        return AUD, AUD.c.date < cutoff
    if table == "audit":
        return AUDIT, AUDIT.c.at < cutoff
    latest = select(func.max(RUN.c.id)).group_by(RUN.c.kind)
    return RUN, (RUN.c.started_at < cutoff) & (RUN.c.status != "running") & RUN.c.id.not_in(latest)


def _count(engine: Engine, table: Table, where) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()


def _delete_batches(engine: Engine, table: Table, where, batch: int) -> tuple[int, int]:
    """Delete matching rows ``batch`` at a time, one transaction each; a ranking goes with its entries.

    Returns (rows, entries) deleted.
    """
    rows = entries = 0
    while True:
        with engine.begin() as conn:
            ids = conn.execute(select(table.c.id).where(where).order_by(table.c.id).limit(batch)).scalars().all()
            if not ids:
                return rows, entries
            if table is R:
                chart_rollup.lock_charts(conn, conn.execute(select(R.c.chart_id).where(R.c.id.in_(ids))).scalars())
                entries += conn.execute(E.delete().where(E.c.ranking_id.in_(ids))).rowcount
            rows += conn.execute(table.delete().where(table.c.id.in_(ids))).rowcount


def cleanup(engine: Engine, retention: dict[str, int | None], *, runs_dir: str | Path | None = None,
            dry_run: bool = False, batch: int = BATCH, trigger: str = "cli") -> CleanupResult:
    """Delete what is older than each target's retention (see :func:`retention_policy`); ``dry_run`` only counts.
    The audit log names ``trigger`` (who started it) and the OS user."""
    deleted: dict[str, int] = {}
    for table, cutoff in _cutoffs(retention).items():
        tbl, where = _old_rows(table, cutoff)
        if dry_run:
            deleted[table] = _count(engine, tbl, where)
            if tbl is R:
                deleted["entries"] = _count(engine, E, E.c.ranking_id.in_(select(R.c.id).where(where)))
        else:
            deleted[table], entries = _delete_batches(engine, tbl, where,
                                                      batch if tbl is R else batch * ROWS_PER_RANKING)
            if tbl is R:
                deleted["entries"] = entries
    if runs_dir is not None and retention.get("archives"):
        deleted["archives"] = len(prune_archives(runs_dir, retention["archives"], dry_run=dry_run))
    result = CleanupResult(retention, deleted, dry_run)
    if not dry_run:
        if deleted.get("rankings"):
            rollups.catch_up(engine)  # keeps the top-tracks and labels pages on their rollups
        record_audit(engine, "maintenance.cleanup", "success", {"retention": retention, "deleted": deleted},
                     trigger=trigger)
    return result


# --- integrity checks ----------------------------------------------------------------------------------------------

@dataclass
class Finding:
    """One kind of problem. ``severity`` "error" is a defect; "warning" may come from the API itself."""

    check: str
    problem: str
    count: int
    severity: str = "error"
    repaired: int = 0
    examples: list[str] = field(default_factory=list)
    advice: str = ""

    @property
    def remaining(self) -> int:
        return self.count - self.repaired


@dataclass
class CheckReport:
    findings: list[Finding]

    @property
    def errors(self) -> int:
        """Defects left after any repair."""
        return sum(f.remaining for f in self.findings if f.severity == "error")

    def verdict(self) -> str:
        """One line: no problems, defects remaining, or none remaining (warnings only, or all repaired)."""
        if not self.findings:
            return f"no problems found (checked {', '.join(CHECKS)})"
        return f"{self.errors} defects remain" if self.errors else "no defects remain"

    def lines(self) -> list[str]:
        out = []
        for f in self.findings:
            fixed = f" ({f.repaired} repaired)" if f.repaired else ""
            out.append(f"{f.severity}: {f.count} {f.problem}{fixed}")
            out.extend(f"    {example}" for example in f.examples)
            if f.advice and f.remaining:
                out.append(f"    -> {f.advice}")
        return out


NOUNS = {"chart_ranking_entry": "ranking entries", "chart_ranking": "rankings", "chart": "charts",
         "track_audience": "audience points", "track_artist": "track artists",
         "track_platform_identifier": "platform identifiers"}
KEPT = ("platform", "chart", "track", "artist")  # never deleted, not even as orphans


def _links():
    """(child table, foreign key column, parent key column) for every foreign key of the schema, children first."""
    for child in reversed(Base.metadata.sorted_tables):
        for fk in sorted(child.foreign_keys, key=lambda f: f.parent.name):
            yield child, fk.parent, fk.column


def _orphans(engine: Engine, repair: bool) -> list[Finding]:
    """Rows whose parent row is gone (foreign keys off in another tool, a manual fix); repair deletes them,
    except in the ``KEPT`` tables; a ranking goes with its entries."""
    findings = []
    for child, column, parent in _links():
        where = ~exists().where(parent == column)
        count = _count(engine, child, where)
        if not count:
            continue
        with engine.connect() as conn:
            missing = conn.execute(select(column).where(where).distinct().order_by(column)
                                   .limit(EXAMPLES)).scalars().all()
        safe = child.name not in KEPT
        noun = NOUNS.get(child.name, f"{child.name} rows")
        finding = Finding("orphans", f"{noun} whose {column.name.removesuffix('_id')} is missing", count,
                          examples=[f"missing {parent.table.name} ids: {', '.join(map(str, missing))}"],
                          advice="" if safe else f"{child.name} rows are never deleted: restore the missing "
                                                 f"{parent.table.name} (`soundcharts sync-charts` rediscovers "
                                                 "platforms)")
        if repair and safe:
            with engine.begin() as conn:
                if child is R:
                    conn.execute(E.delete().where(E.c.ranking_id.in_(select(R.c.id).where(where))))
                finding.repaired = conn.execute(child.delete().where(where)).rowcount
        findings.append(finding)
    return findings


def _entry_counts(engine: Engine, repair: bool) -> list[Finding]:
    """Successful rankings whose stored entries disagree with ``entry_count``; repair marks them for refetch."""
    counts = select(E.c.ranking_id, func.count().label("n")).group_by(E.c.ranking_id).subquery()
    stored = func.coalesce(counts.c.n, 0)
    q = (select(R.c.id, C.c.slug, R.c.ranking_date, R.c.entry_count, stored)
         .outerjoin(counts, counts.c.ranking_id == R.c.id).outerjoin(C, C.c.id == R.c.chart_id)
         .where(R.c.status == "success", stored != R.c.entry_count).order_by(R.c.id))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    if not rows:
        return []
    finding = Finding("entry_counts", "rankings whose entry count disagrees with their entries", len(rows),
                      examples=[f"{slug} {day}: {n} of {expected} entries" for _, slug, day, expected, n
                                in rows[:EXAMPLES]],
                      advice="refetch: soundcharts sync-charts --chart SLUG --date DATE --force")
    if repair:
        ids = [r[0] for r in rows]
        with engine.begin() as conn:
            for i in range(0, len(ids), BATCH):
                finding.repaired += conn.execute(update(R).where(R.c.id.in_(ids[i:i + BATCH])).values(
                    status="failed", error="integrity check: stored entries disagree with entry_count; "
                                           "refetch")).rowcount
        finding.advice = "marked failed: the next sync of those dates refetches them"
    return [finding]


def _first_gap(days: list[date]) -> tuple[date, date]:
    for before, after in zip(days, days[1:], strict=False):
        if (after - before).days > 1:
            return before + timedelta(days=1), after - timedelta(days=1)
    raise ValueError("no gap")


def _audience_gaps(engine: Engine) -> list[Finding]:
    """Series (track, platform, identifier) with days missing between their first and last stored date."""
    key = (AUD.c.track_id, AUD.c.platform_id, AUD.c.platform_identifier)
    q = select(*key, func.min(AUD.c.date), func.max(AUD.c.date), func.count()).group_by(*key)
    with engine.connect() as conn:
        gaps = [(row[:3], (row[4] - row[3]).days + 1 - row[5]) for row in conn.execute(q)]
        gaps = sorted([g for g in gaps if g[1] > 0], key=lambda g: -g[1])
        if not gaps:
            return []
        examples = []
        for (track_id, platform_id, ident), missing in gaps[:EXAMPLES]:
            uuid = conn.execute(select(T.c.uuid).where(T.c.id == track_id)).scalar()
            slug = conn.execute(select(P.c.slug).where(P.c.id == platform_id)).scalar()
            days = conn.execute(select(AUD.c.date).where(AUD.c.track_id == track_id, AUD.c.platform_id == platform_id,
                                                       AUD.c.platform_identifier == ident)
                                .order_by(AUD.c.date)).scalars().all()
            first, last = _first_gap(days)
            examples.append(f"track {uuid} on {slug} ({ident}): {missing} days missing, first {first}..{last}")
    return [Finding("audience_gaps", f"audience series with missing days ({sum(g[1] for g in gaps)} days in all)",
                    len(gaps), severity="warning", examples=examples,
                    advice="the API may lack those days; to retry one: soundcharts fetch-audience --track-uuid U "
                           "--platform P --start-date A --end-date B --force")]


def _duplicate_isrcs(engine: Engine) -> list[Finding]:
    isrc = func.upper(T.c.isrc)
    q = (select(isrc, func.count()).where(T.c.isrc.is_not(None), T.c.isrc != "").group_by(isrc)
         .having(func.count() > 1).order_by(isrc))
    with engine.connect() as conn:
        dupes = conn.execute(q).all()
        examples = []
        for code, _ in dupes[:EXAMPLES]:
            uuids = conn.execute(select(T.c.uuid).where(func.upper(T.c.isrc) == code).order_by(T.c.uuid)).scalars()
            examples.append(f"{code}: {', '.join(uuids)}")
    if not dupes:
        return []
    return [Finding("duplicate_isrc", "ISRCs stored under two or more tracks", len(dupes), severity="warning",
                    examples=examples, advice="separate SoundCharts songs: analytics count them apart")]


def _dead_runs(engine: Engine, repair: bool) -> list[Finding]:
    """Runs recorded as running whose process is gone (killed, crashed); repair records them as interrupted."""
    with engine.connect() as conn:
        running = conn.execute(select(RUN.c.id, RUN.c.kind, RUN.c.started_at).where(RUN.c.status == RUNNING)
                               .order_by(RUN.c.id)).all()
        dead = dead_runs(conn, [r.id for r in running])
    rows = [r for r in running if r.id in dead]
    if not rows:
        return []
    finding = Finding("dead_runs", "runs recorded as running whose process is gone", len(rows),
                      examples=[f"run {r.id} ({r.kind}) started {r.started_at:%Y-%m-%d %H:%M:%S}"
                                for r in rows[:EXAMPLES]],
                      advice="--repair records them as interrupted (so does the next run of any job)")
    if repair:
        finding.repaired = len(set(interrupt_dead_runs(engine)) & dead)
    return [finding]


CHECKS = ("orphans", "entry counts", "dead runs", "audience gaps", "duplicate ISRCs")


def check_database(engine: Engine, *, repair: bool = False, trigger: str = "cli") -> CheckReport:
    """Run every integrity check; with ``repair``, fix what is safe (orphans deleted, bad rankings marked
    failed so the next sync refetches them, dead runs recorded as interrupted) and report the rest. Repairs are
    audited under ``trigger``."""
    findings = _orphans(engine, repair) + _entry_counts(engine, repair) + _dead_runs(engine, repair)
    findings += _audience_gaps(engine) + _duplicate_isrcs(engine)
    report = CheckReport(findings)
    if repair and any(f.repaired for f in findings):
        rollups.catch_up(engine)
        record_audit(engine, "maintenance.repair", "success",
                     {f.problem: f.repaired for f in findings if f.repaired}, trigger=trigger)
    return report


# --- the scheduled job ---------------------------------------------------------------------------------------------

def _dated_backup(settings: Settings, folder: str | Path, keep: int) -> Path:
    """A backup named by the time into ``folder``; only the newest ``keep`` of them stay."""
    from soundcharts_lib.jobs.backup import backup_suffix, write_backup

    folder = Path(folder)
    suffix = backup_suffix(settings.db_url)
    path = write_backup(settings.db_url, folder / f"soundcharts-{utcnow():%Y%m%d-%H%M%S}{suffix}").path
    for old in sorted(folder.glob(f"soundcharts-*{suffix}"))[:-keep]:
        old.unlink()
    return path


@dataclass(frozen=True)
class MaintenanceParams(Params):
    """``scheduled/maintenance.ipynb``'s parameters. ``retention_days`` overrides the archives' retention,
    ``older_than`` every target's (see :func:`retention_policy`)."""

    JOB = "maintenance"
    retention_days: int | None = param(vocab.days)  # days of archived job notebooks kept
    older_than: int | None = param(vocab.days)  # days kept in every table and the archives
    repair: bool = param(flag, False)  # fix the integrity problems that are safe to fix
    backup_dir: str | None = param(vocab.file_path)  # a folder for a dated backup; none: no backup
    keep_backups: int = param(vocab.limit, 7)  # dated backups kept in backup_dir, newest first


def run_maintenance(settings: Settings, params: MaintenanceParams | Mapping | None = None) -> RunResult:
    """The maintenance job, recorded as started by ``settings.trigger``: cleanup by retention, integrity check
    (and safe repairs when asked), an optional dated backup. Defects that remain make the run "partial", listed in
    the result's notes; they are the data's, not failures of the job. A step that cannot run is recorded as failed
    and raised."""
    from soundcharts_lib.jobs.runtime import migrated_engine
    from soundcharts_lib.logs import mask

    params = MaintenanceParams.of(params)
    engine = migrated_engine(settings)
    try:
        run_id = start_run(engine, MaintenanceParams.JOB, settings.trigger, asdict(params),
                           notebook_path=settings.job_notebook)
        try:
            retention = retention_policy(settings, older_than=params.older_than,
                                         overrides={"archives": params.retention_days})
            cleaned = cleanup(engine, retention, runs_dir=settings.runs_dir, trigger=settings.trigger)
            report = check_database(engine, repair=params.repair, trigger=settings.trigger)
            counts: dict = {**cleaned.deleted, **{f.check: f.remaining for f in report.findings}}
            done = [cleaned.summary(), report.verdict()]
            if params.backup_dir:
                counts["backup"] = str(_dated_backup(settings, params.backup_dir, params.keep_backups))
                done.append(f"backup written: {counts['backup']}")
        except Exception as exc:
            finish_run(engine, run_id, status="failed", counts={}, errors=[mask(f"{type(exc).__name__}: {exc}")])
            raise
        status = "partial" if report.errors else "success"
        finish_run(engine, run_id, status=status, counts=counts, errors=report.lines())
    finally:
        engine.dispose()
    return RunResult(MaintenanceParams.JOB, status, f"{status}: {'; '.join(done)}", counts,
                     notes=tuple(report.lines()), run_id=run_id,
                     notebook=Path(settings.job_notebook) if settings.job_notebook else None)
