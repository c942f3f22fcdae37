"""Each room's docstring says which other rooms it may import (`May import: ...`); the code keeps to it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "encoderlab"
ROOMS = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


def allowed_rooms(room: str) -> set[str] | None:
    """The rooms the docstring names (backticked) after `May import:`; None for `any room`."""
    doc = ast.get_docstring(ast.parse((PACKAGE / room / "__init__.py").read_text())) or ""
    match = re.search(r"May import:(.*)", doc, flags=re.S)
    assert match, f"encoderlab/{room}/__init__.py's docstring says nothing of what {room} may import"
    if "any room" in match.group(1):
        return None
    return {name for name in re.findall(r"`(\w+)`", match.group(1)) if name in ROOMS} | {"errors", room}


def imported_rooms(room: str) -> dict[str, str]:
    """room -> the first file of `room` that imports it."""
    found: dict[str, str] = {}
    for path in sorted((PACKAGE / room).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "encoderlab" and len(parts) > 1:
                    found.setdefault(parts[1], str(path.relative_to(PACKAGE)))
    return found


@pytest.mark.parametrize("room", ROOMS)
def test_each_room_imports_only_what_its_docstring_allows(room: str) -> None:
    allowed = allowed_rooms(room)
    if allowed is None:
        return
    stray = {other: where for other, where in imported_rooms(room).items() if other not in allowed}
    assert not stray, f"{room} imports rooms its docstring does not allow: {stray}"


def test_the_package_root_holds_rooms_not_loose_modules() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "errors.py"]
