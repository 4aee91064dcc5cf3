"""Each layer of the architecture imports only from the layers below it (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "thetagym"

LAYERS = {
    "config": 0,
    "seeds": 0,
    "measures": 0,
    "engines": 1,
    "outputs": 1,  # a foundation that raises thetagym.config errors
    "pricing": 1,
    "market": 2,
    "book": 3,
    "env": 4,
    "policies": 5,
    "evaluate": 6,
    "report": 6,
    "train": 6,
    "export": 6,
    "tune": 6,
    "advise": 6,
    "cli": 7,
}
"""Layer of each top-level module; the workflows of layer 6 may use one another."""


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {name.split(".")[1] for name in names if name.startswith("thetagym.") and name.count(".") >= 1}


def test_every_module_belongs_to_a_layer() -> None:
    top_level = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if not p.name.startswith("_")}
    top_level -= {"py"}  # py.typed
    assert top_level <= set(LAYERS), sorted(top_level - set(LAYERS))


def test_layers_import_only_from_below() -> None:
    offences = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        owner = relative.parts[0].removesuffix(".py")
        if owner not in LAYERS:
            continue
        for module in imported_modules(path):
            if module not in LAYERS or module == owner:
                continue
            allowed = LAYERS[module] < LAYERS[owner] or (LAYERS[module] == LAYERS[owner] == 6)
            if not allowed:
                offences.append(f"{relative} imports thetagym.{module}")
    assert offences == []
