"""The house keeps its plan: every room and top-level module is in the README's layout, no module is over 500 lines,
and no module imports itself back through others (the layers are held by import-linter in ``make lint``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import grimp

import soundcharts_lib

ROOT = Path(soundcharts_lib.__file__).parent
README = ROOT.parent / "README.md"
LONGEST = 500


def layout_block() -> str:
    text = README.read_text()
    section = text[text.index("## Layout"):]
    return section[section.index("```"):section.index("```", section.index("```") + 3)]


def test_every_room_and_top_module_is_in_the_readme_layout():
    block = layout_block()
    rooms = [p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()]
    modules = [p.name for p in ROOT.glob("*.py") if p.name != "__init__.py"]
    missing = [name for name in [f"{room}/" for room in rooms] + modules
               if not re.search(rf"^  {re.escape(name)} ", block, re.M)]
    missing += [f"{p.parent.name}/{p.name}/" for p in ROOT.glob("*/*") if (p / "__init__.py").is_file()
                if f"{p.parent.name}/{p.name}/" not in block]
    assert not missing, f"not in the README's layout, one line each: {missing}"


def test_no_module_is_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if "versions" not in p.parts and (n := len(p.read_text().splitlines())) > LONGEST}
    assert not long, long


def import_cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    counter, stack, on_stack, low, number, cycles = [0], [], set(), {}, {}, []

    def visit(module):
        number[module] = low[module] = counter[0]
        counter[0] += 1
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in number:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], number[other])
        if low[module] == number[module]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in number:
            visit(module)
    return cycles


def test_no_import_cycle():
    assert import_cycles(grimp.build_graph("soundcharts_lib")) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    pkg = tmp_path / "cyclic"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyclic import b\n")
    (pkg / "b.py").write_text("def f():\n    from cyclic import a\n")
    (pkg / "c.py").write_text("from cyclic import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles(grimp.build_graph("cyclic")) == [["cyclic.a", "cyclic.b"]]
