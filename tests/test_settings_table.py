"""One place for settings: every ``SOUNDCHARTS_*`` variable the package reads is declared once, in
``soundcharts_lib.config.Settings``, and nothing else in the package reads one from the process environment; the
README's configuration table lists exactly the declared variables (and the Airflow DAG's) with the declared defaults;
every name the code, the job notebooks, the crontab, the dashboards, the analyst notebooks and the scripts mention is
a row of that table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from soundcharts_lib import home
from soundcharts_lib.config import PROJECT_ROOT, VARIABLES, Secret, Settings

NAME = re.compile(r"\bSOUNDCHARTS_[A-Z0-9_]*[A-Z0-9]\b")  # a prefix such as SOUNDCHARTS_RETENTION_* is no name
SOURCES = ["soundcharts_lib/**/*.py", "scheduled/**/*", "dashboards/**/*.ipynb", "notebooks/**/*.ipynb",
           "scripts/**/*", "Makefile", ".ci/*"]
# Read by the test harness only (scripts/test.sh, tests/): the PostgreSQL server the tests use, never a setting of
# the product.
TEST_ONLY = {"SOUNDCHARTS_TEST_PG_URL", "SOUNDCHARTS_TEST_PG_PORT", "SOUNDCHARTS_TEST_REQUIRE_PG"}
# Read by the Airflow DAG, which runs where nothing of the package is importable (scheduled/airflow/README.md).
AIRFLOW = {"SOUNDCHARTS_PROJECT", "SOUNDCHARTS_AIRFLOW_PLATFORMS"}
PACKAGE = PROJECT_ROOT / "soundcharts_lib"
# The settings themselves, and home.py: it finds the .env file, so it reads SOUNDCHARTS_HOME before any setting can
# be read (the settings declare the same variable, home_dir).
READS_SETTINGS = {"config.py", "home.py"}
# Uses the process environment as a whole, yet reads no setting: it writes the request's variables Voila sends a
# preheated kernel (QUERY_STRING, the HTTP_* headers).
WHOLE_ENVIRONMENT = {"web/preheat.py"}
READERS = {"get", "pop", "setdefault"}


def read_in_code() -> dict[str, str]:
    """Each name found in the sources, with the first file that has it."""
    found: dict[str, str] = {}
    for pattern in SOURCES:
        for path in sorted(PROJECT_ROOT.glob(pattern)):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            for name in NAME.findall(path.read_text(errors="replace")):
                found.setdefault(name, str(path.relative_to(PROJECT_ROOT)))
    return {name: where for name, where in found.items() if name not in TEST_ONLY}


def configuration_table() -> dict[str, str]:
    """``{name: default}`` from the rows of the table under the README's "## Configuration". A row naming several
    variables gives each its own part of a default listed as many times ("5000000 (5 MB), 5"), else the whole."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n#", 1)[0]
    table = {}
    for line in section.splitlines():
        if line.startswith("| `SOUNDCHARTS_"):
            cells = line.split("|")[1:-1]
            names, default = NAME.findall(cells[0]), cells[2].strip()
            parts = default.split(", ")
            table.update(zip(names, parts if len(parts) == len(names) else [default] * len(names), strict=True))
    return table


def shown_default(field: str) -> str:
    """A declared default as the README shows it: "none" for no value, a text in backquotes, a number as is."""
    var, default = VARIABLES[field], Settings.__dataclass_fields__[field].default
    if var.shown is not None:
        return var.shown
    if default in (None, "", ()) or default == Secret(""):
        return "none"
    if isinstance(default, str):
        return f"`{default}`"
    return f"{default:g}" if isinstance(default, float) else str(default)


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """A module's top-level ``NAME = "text"`` constants (what a read may name instead of a literal)."""
    return {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for target in node.targets if isinstance(target, ast.Name)}


def environment_reads(path: Path) -> list[str]:
    """How the module at ``path`` uses the process environment, besides reading one variable named by a literal or
    a constant: ``"NAME read"`` for such a read of a ``SOUNDCHARTS_*`` variable, ``"whole environment"`` for any
    other use of ``os.environ`` (a copy, an iteration, an update, passing it on: each carries every setting). A
    parameter defaulting to ``os.environ`` counts as the environment wherever its function uses it."""
    tree = ast.parse(path.read_text())
    constants, parents = _module_strings(tree), {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def named(use: ast.expr) -> str | None:
        """The variable ``use`` (the environment) is read for: ``use[NAME]``, ``use.get(NAME)``, ``use.pop(NAME)``."""
        parent, name = parents[use], None
        if isinstance(parent, ast.Subscript) and parent.value is use:
            name = parent.slice
        elif isinstance(parent, ast.Attribute) and parent.attr in READERS and isinstance(parents[parent], ast.Call) \
                and parents[parent].args:
            name = parents[parent].args[0]
        text = name.value if isinstance(name, ast.Constant) else constants.get(getattr(name, "id", None))
        return text if isinstance(text, str) else None

    def uses(node: ast.Attribute) -> list[ast.expr]:
        """Where ``os.environ`` is read: itself, or, as a parameter's default, that parameter in its function."""
        if not isinstance(parents[node], ast.arguments):
            return [node]
        arguments = parents[node]
        params = arguments.posonlyargs + arguments.args
        param = {id(d): a.arg for d, a in zip(arguments.defaults, params[len(params) - len(arguments.defaults):],
                                             strict=True)}
        param.update({id(d): a.arg for d, a in zip(arguments.kw_defaults, arguments.kwonlyargs, strict=True) if d})
        return [use for use in ast.walk(parents[arguments]) if isinstance(use, ast.Name) and use.id == param[id(node)]
                and isinstance(use.ctx, ast.Load)]

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os" and \
                {a.name for a in node.names} & {"environ", "getenv", "putenv", "unsetenv"}:
            found.append((node.lineno, "imports os.environ / os.getenv"))
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
                and node.attr in ("environ", "getenv", "putenv", "unsetenv")):
            continue
        if node.attr == "getenv" and isinstance(parents[node], ast.Call) and parents[node].args:
            arg = parents[node].args[0]
            reads = [arg.value if isinstance(arg, ast.Constant) else constants.get(getattr(arg, "id", None))]
        elif node.attr == "environ":
            reads = [named(use) for use in uses(node)]
        else:
            reads = [None]
        for text in reads:
            if not isinstance(text, str):
                found.append((node.lineno, "whole environment"))
            elif text.startswith("SOUNDCHARTS_"):
                found.append((node.lineno, f"{text} read"))
    return [f"line {line}: {what}" for line, what in sorted(set(found))]


def package_modules() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py")) if "localapi" not in path.relative_to(PACKAGE).parts]


def test_the_scan_finds_what_the_code_reads():
    found = read_in_code()
    assert {"SOUNDCHARTS_DB_URL", "SOUNDCHARTS_CACHE_PATH", "SOUNDCHARTS_ADMIN_TOKEN", "SOUNDCHARTS_PROJECT",
            "SOUNDCHARTS_RETENTION_AUDIT_DAYS", "SOUNDCHARTS_TRIGGER"} <= set(found)
    assert not TEST_ONLY & set(found) and "SOUNDCHARTS_USER" not in found  # HTTP_X_SOUNDCHARTS_USER is a header
    assert len(configuration_table()) >= 30
    assert configuration_table()["SOUNDCHARTS_LOG_BACKUPS"] == "5"
    assert configuration_table()["SOUNDCHARTS_RETENTION_AUDIT_DAYS"] == "keep all"


def test_every_variable_is_declared_once_with_a_type_a_default_and_one_line_of_help():
    names = [var.name for var in VARIABLES.values()]
    assert len(names) == len(set(names)) and all(NAME.fullmatch(name) for name in names)
    assert VARIABLES["home_dir"].name == home.HOME_ENV
    assert VARIABLES["home_dir"].help == "the data folder when not running from a checkout"
    for field, spec in Settings.__dataclass_fields__.items():
        assert spec.type and spec.metadata["variable"] is VARIABLES[field]
        assert VARIABLES[field].help and "\n" not in VARIABLES[field].help, field


def test_every_declared_variable_is_in_the_configuration_table_with_its_default():
    table = configuration_table()
    missing = [var.name for var in VARIABLES.values() if var.name not in table]
    assert not missing, f"add these to the README's configuration table: {missing}"
    wrong = {var.name: (table[var.name], shown_default(field)) for field, var in VARIABLES.items()
             if not table[var.name].startswith(shown_default(field))}
    assert not wrong, f"README default differs from the declared one (README, declared): {wrong}"


def test_the_table_names_only_declared_variables():
    declared = {var.name for var in VARIABLES.values()}
    assert set(configuration_table()) - declared == AIRFLOW
    assert not AIRFLOW & {name for path in package_modules() for name in NAME.findall(path.read_text())}


def test_every_variable_read_is_in_the_configuration_table_with_a_default():
    table = configuration_table()
    missing = {name: where for name, where in read_in_code().items() if name not in table}
    assert not missing, f"add these to the README's configuration table: {missing}"
    assert not [name for name, default in table.items() if not default], "every row names its default"


def test_the_table_names_only_variables_the_code_reads():
    assert not set(configuration_table()) - set(read_in_code())


def test_no_module_but_config_reads_a_setting_from_the_environment():
    found = {}
    for path in package_modules():
        module = str(path.relative_to(PACKAGE))
        reads = [] if module in READS_SETTINGS else environment_reads(path)
        if module in WHOLE_ENVIRONMENT:
            reads = [read for read in reads if not read.endswith("whole environment")]
        if reads:
            found[module] = reads
    assert not found, f"read these through soundcharts_lib.config.Settings: {found}"


def test_the_scan_sees_each_way_of_reading_the_environment(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('import os\nfrom os import getenv\nDB = "SOUNDCHARTS_DB_URL"\nos.environ.get(DB)\n'
                      'os.environ["SOUNDCHARTS_TRIGGER"]\nos.getenv("SOUNDCHARTS_X", "")\ndict(os.environ)\n'
                      'os.environ.pop("SOUNDCHARTS_ADMIN_TOKEN", None)\nos.environ.get("QUERY_STRING", "")\n'
                      'def voila(env=os.environ):\n    return env.get("VOILA_SERVER_URL"), env["VOILA_APP_IP"]\n'
                      'def setting(env=os.environ):\n    return env.get("SOUNDCHARTS_TIMEOUT")\n'
                      'def passed(*, env=os.environ):\n    return dict(env)\n')
    assert environment_reads(module) == [
        "line 2: imports os.environ / os.getenv", "line 4: SOUNDCHARTS_DB_URL read", "line 5: SOUNDCHARTS_TRIGGER read",
        "line 6: SOUNDCHARTS_X read", "line 7: whole environment", "line 8: SOUNDCHARTS_ADMIN_TOKEN read",
        "line 12: SOUNDCHARTS_TIMEOUT read", "line 14: whole environment"]
