"""Optional monthly partitioning of chart entries and audience rows on PostgreSQL.

Turned on with ``SOUNDCHARTS_PG_PARTITIONING=monthly``: ``soundcharts init-db`` (and every job, through
``runtime.migrated_engine``) converts ``chart_ranking_entry`` (by ``ranking_date``) and ``track_audience`` (by
``date``) into range-partitioned tables, one partition per month plus a default one, copying the rows over in one
transaction, and keeps partitions ready ``MONTHS_AHEAD`` months into the future. Constraints keep their meaning: the
partition key joins each primary key and unique constraint (an entry's ranking fixes its date anyway).
Old months can then be dropped whole instead of deleted row by row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from soundcharts_lib.errors import ConfigError

MONTHS_AHEAD = 3
MODES = ("", "off", "monthly")


@dataclass(frozen=True)
class Layout:
    table: str
    key: str
    primary_key: tuple[str, ...]
    unique: dict[str, tuple[str, ...]]
    indexes: dict[str, tuple[str, ...]]
    foreign_keys: tuple[str, ...]


LAYOUTS = (
    Layout("chart_ranking_entry", "ranking_date", ("id", "ranking_date"),
           {"uq_entry_ranking_position": ("ranking_id", "position", "ranking_date")},
           {"ix_entry_ranking_track": ("ranking_id", "track_id"),
            "ix_entry_track": ("track_id", "chart_id", "ranking_date", "position")},
           ("FOREIGN KEY (ranking_id) REFERENCES chart_ranking (id) ON DELETE CASCADE",)),  # no track key (0005)
    Layout("track_audience", "date", ("id", "date"),
           {"uq_audience_point": ("track_id", "platform_id", "platform_identifier", "date")},
           {"ix_audience_series": ("track_id", "platform_id", "date", "audience_value")},
           ("FOREIGN KEY (track_id) REFERENCES track (id) ON DELETE CASCADE",
            "FOREIGN KEY (platform_id) REFERENCES platform (id)")),
)


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ConfigError(f"SOUNDCHARTS_PG_PARTITIONING must be 'monthly' or empty, got {mode!r}")
    return "monthly" if mode == "monthly" else ""


def is_partitioned(conn: Connection, table: str) -> bool:
    kind = conn.execute(text("SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                             "WHERE c.relname = :t AND n.nspname = current_schema()"), {"t": table}).scalar()
    return kind == "p"


def _month(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def _partition_name(table: str, month: date) -> str:
    return f"{table}_{month:%Y%m}"


def ensure_partitions(conn: Connection, layout: Layout, first: date, last: date) -> list[str]:
    """Create the monthly partitions covering ``first``..``last`` that do not exist yet; return their names."""
    made = []
    month = _month(first)
    while month <= last:
        name = _partition_name(layout.table, month)
        exists = conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar()
        if exists is None:
            conn.execute(text(f"CREATE TABLE {name} PARTITION OF {layout.table} "
                              f"FOR VALUES FROM ('{month}') TO ('{_next_month(month)}')"))
            made.append(name)
        month = _next_month(month)
    return made


def _convert(conn: Connection, layout: Layout, today: date) -> None:
    t, old = layout.table, f"{layout.table}_unpartitioned"
    conn.execute(text(f"ALTER TABLE {t} RENAME TO {old}"))
    for name in (*layout.unique, *layout.indexes, f"{t}_pkey"):  # free the names for the new table
        conn.execute(text(f"ALTER INDEX IF EXISTS {name} RENAME TO {name}_old"))
    conn.execute(text(f"CREATE TABLE {t} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY RANGE ({layout.key})"))
    conn.execute(text(f"ALTER TABLE {t} ALTER COLUMN {layout.key} SET NOT NULL"))
    conn.execute(text(f"CREATE TABLE {t}_default PARTITION OF {t} DEFAULT"))
    lo, hi = conn.execute(text(f"SELECT min({layout.key}), max({layout.key}) FROM {old}")).one()
    ensure_partitions(conn, layout, lo or today, max(hi or today, today))
    # rows first, then keys, indexes and foreign keys, each built once over the whole table: maintained row by row
    # (one queued foreign-key check per row), converting 10.8M entries took 153 s instead of 35 s
    conn.execute(text(f"INSERT INTO {t} SELECT * FROM {old}"))
    conn.execute(text(f"ALTER TABLE {t} ADD CONSTRAINT {t}_pkey PRIMARY KEY ({', '.join(layout.primary_key)})"))
    for name, cols in layout.unique.items():
        conn.execute(text(f"ALTER TABLE {t} ADD CONSTRAINT {name} UNIQUE ({', '.join(cols)})"))
    for name, cols in layout.indexes.items():
        conn.execute(text(f"CREATE INDEX {name} ON {t} ({', '.join(cols)})"))
    for fk in layout.foreign_keys:
        conn.execute(text(f"ALTER TABLE {t} ADD {fk}"))
    conn.execute(text(f"ALTER SEQUENCE {t}_id_seq OWNED BY {t}.id"))
    conn.execute(text(f"DROP TABLE {old}"))


def apply(engine: Engine, mode: str, *, today: date | None = None) -> list[str]:
    """Bring the partitioned layout in line with ``mode``; return what was done (empty when nothing).

    Converting is one transaction per table (rows copied, old table dropped). Turning the setting off again does
    not merge partitions back: it is reported as a ``ConfigError``.
    """
    mode = check_mode(mode)
    if engine.dialect.name != "postgresql":
        if mode:
            raise ConfigError("SOUNDCHARTS_PG_PARTITIONING applies to PostgreSQL databases only")
        return []
    today = today or date.today()
    ahead = _month(today)
    for _ in range(MONTHS_AHEAD):
        ahead = _next_month(ahead)
    done = []
    for layout in LAYOUTS:
        with engine.begin() as conn:
            partitioned = is_partitioned(conn, layout.table)
            if not mode:
                if partitioned:
                    raise ConfigError(f"{layout.table} is partitioned but SOUNDCHARTS_PG_PARTITIONING is off; "
                                      "set it to 'monthly' (merging partitions back is not supported)")
                continue
            if not partitioned:
                conn.execute(text(f"LOCK TABLE {layout.table} IN ACCESS EXCLUSIVE MODE"))
                _convert(conn, layout, today)
                done.append(f"{layout.table}: partitioned by month of {layout.key}")
            made = ensure_partitions(conn, layout, today, ahead)
            if made:
                done.append(f"{layout.table}: {len(made)} new monthly partitions")
    return done
