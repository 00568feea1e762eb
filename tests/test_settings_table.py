"""One place for settings: every ``SOUNDCHARTS_*`` variable the code reads (the library, the job notebooks and the
crontab, the dashboards, the analyst notebooks, the Airflow DAG, the scripts) is a row of the README's
configuration table with a default, and the table names nothing the code does not read."""

from __future__ import annotations

import re

from soundcharts_lib.config import PROJECT_ROOT
from soundcharts_lib.jobs.maintenance import RETENTION_ENV

NAME = re.compile(r"\bSOUNDCHARTS_[A-Z0-9_]*[A-Z0-9]\b")  # a prefix such as SOUNDCHARTS_RETENTION_* is no name
SOURCES = ["soundcharts_lib/**/*.py", "scheduled/**/*", "dashboards/**/*.ipynb", "notebooks/**/*.ipynb",
           "scripts/**/*", "Makefile", ".ci/*"]
BUILT = set(RETENTION_ENV.values())  # names the code builds from a template (f"SOUNDCHARTS_RETENTION_{t}_DAYS")
# Read by the test harness only (scripts/test.sh, tests/): the PostgreSQL server the tests use, never a setting of
# the product.
TEST_ONLY = {"SOUNDCHARTS_TEST_PG_URL", "SOUNDCHARTS_TEST_PG_PORT", "SOUNDCHARTS_TEST_REQUIRE_PG"}


def read_in_code() -> dict[str, str]:
    """Each name found in the sources, with the first file that has it."""
    found: dict[str, str] = {}
    for pattern in SOURCES:
        for path in sorted(PROJECT_ROOT.glob(pattern)):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            for name in NAME.findall(path.read_text(errors="replace")):
                found.setdefault(name, str(path.relative_to(PROJECT_ROOT)))
    for name in BUILT:
        found.setdefault(name, "soundcharts_lib/jobs/maintenance.py (RETENTION_ENV)")
    return {name: where for name, where in found.items() if name not in TEST_ONLY}


def configuration_table() -> dict[str, str]:
    """``{name: default}`` from the rows of the table under the README's "## Configuration"."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n#", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| `SOUNDCHARTS_")]
    return {name: cells[2].strip() for cells in rows for name in NAME.findall(cells[0])}


def test_the_scan_finds_what_the_code_reads():
    found = read_in_code()
    assert {"SOUNDCHARTS_DB_URL", "SOUNDCHARTS_CACHE_PATH", "SOUNDCHARTS_ADMIN_TOKEN", "SOUNDCHARTS_PROJECT",
            "SOUNDCHARTS_RETENTION_AUDIT_DAYS", "SOUNDCHARTS_TRIGGER"} <= set(found)
    assert not TEST_ONLY & set(found) and "SOUNDCHARTS_USER" not in found  # HTTP_X_SOUNDCHARTS_USER is a header
    assert len(configuration_table()) >= 30


def test_every_variable_read_is_in_the_configuration_table_with_a_default():
    table = configuration_table()
    missing = {name: where for name, where in read_in_code().items() if name not in table}
    assert not missing, f"add these to the README's configuration table: {missing}"
    assert not [name for name, default in table.items() if not default], "every row names its default"


def test_the_table_names_only_variables_the_code_reads():
    assert not set(configuration_table()) - set(read_in_code())
