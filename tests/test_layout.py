"""The layering rules (README, "Code layout"), checked on the imports themselves: the domain never
imports the API or the transports, the transports never import the API, and each outside library has
one owner."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parent.parent / "server"
# Wiring, not domain: these build the app out of every layer.
WIRING = {"app.py", "serve.py", "services.py", "__main__.py"}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, *packages: str) -> bool:
    """Whether the imported name is one of the packages or inside one (server.api_keys is not server.api)."""
    return any(name == package or name.startswith(package + ".") for package in packages)


def modules(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.py"))


@pytest.mark.parametrize("path", [p for p in modules(SERVER) if p.name not in WIRING], ids=lambda p: p.name)
def test_the_domain_imports_neither_the_api_nor_the_transports(path: Path):
    assert not {name for name in imported(path) if within(name, "server.api", "server.channels")}


@pytest.mark.parametrize("path", modules(SERVER / "channels"), ids=lambda p: p.name)
def test_the_transports_do_not_import_the_api(path: Path):
    assert not {name for name in imported(path) if within(name, "server.api")}


@pytest.mark.parametrize(
    ("library", "owner"),
    [
        ("broadcaster", "broadcast.py"),
        ("databases", "database.py"),
        ("orjson", "codec.py"),
        ("argon2", "passwords.py"),
        ("lark", "rules/dice.py"),
        ("limits", "send_rate.py"),
        ("PIL", "map_images.py"),
    ],
)
def test_each_outside_library_has_one_owner(library: str, owner: str):
    importers = {
        path.relative_to(SERVER).as_posix()
        for path in SERVER.rglob("*.py")
        if any(name == library or name.startswith(library + ".") for name in imported(path))
    }
    assert importers == {owner}
