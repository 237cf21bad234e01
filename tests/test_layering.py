"""The tiers build upward, and the library never imports torch (it is only the tests' reference),
except ``interop/``, which converts models to PyTorch and imports it inside its functions only.

common <- scalar;  common <- vectorized <- convolutional <- cli, exercises
"""

import ast
from pathlib import Path

import pytest

import nnscratch

PACKAGE = Path(nnscratch.__file__).parent
FORBIDDEN = {
    "common": {"scalar", "vectorized", "convolutional", "cli"},
    "scalar": {"vectorized", "convolutional", "cli"},
    "vectorized": {"scalar", "convolutional", "cli"},
    "convolutional": {"scalar", "cli"},
    "exercises": set(),  # at the level of cli: it uses every tier, and no tier imports it
}


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.add(f"{base}.{node.module}" if node.module else base)
                names.update(f"{base}.{alias.name}" for alias in node.names if not node.module)
            else:
                names.add(node.module)
    return names


SOURCES = sorted(PACKAGE.rglob("*.py"))


def is_torch(name: str) -> bool:
    return name == "torch" or name.startswith("torch.")


def module_level_imports(path: Path) -> set[str]:
    """The modules ``path`` imports outside any function (when it is imported, not when it runs)."""
    names = set()
    pending = list(ast.parse(path.read_text()).body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add(node.module)
        pending.extend(ast.iter_child_nodes(node))
    return names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_upward_imports_and_no_torch(path):
    imports = imported_modules(path)
    tier = path.relative_to(PACKAGE).parts[0]
    if tier == "interop":
        assert not any(is_torch(name) for name in module_level_imports(path)), f"{path} imports torch when imported"
    else:
        assert not any(is_torch(name) for name in imports), f"{path} imports torch"
    for name in imports:
        parts = name.split(".")
        if parts[0] == "nnscratch" and len(parts) > 1:
            assert parts[1] not in FORBIDDEN.get(tier, set()), f"{path} ({tier}) imports {name}"
