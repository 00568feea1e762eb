"""What the connection's database role may change (PostgreSQL): the viewers' server refuses a role that can write."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

# Tables (plain, partitioned and partitions) of the connection's schema on which its role holds a privilege that
# changes rows; a superuser or the tables' owner holds them all.
WRITABLE_TABLES = text("""
SELECT c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND (has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE')
       OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE'))
ORDER BY c.relname
""")


def writable_tables(engine: Engine) -> tuple[str, list[str]]:
    """``(role, tables it can write to)`` on PostgreSQL; SQLite has no roles: ``("", [])``."""
    if engine.dialect.name != "postgresql":
        return "", []
    with engine.connect() as conn:
        role = conn.execute(text("SELECT current_user")).scalar_one()
        return role, list(conn.execute(WRITABLE_TABLES).scalars())
