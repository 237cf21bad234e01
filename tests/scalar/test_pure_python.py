"""The scalar tier's math is Python floats and ``math``: only the trainer (the data edge) touches NumPy."""

from pathlib import Path

import pytest

import nnscratch.scalar
from tests.test_layering import imported_modules

SCALAR = Path(nnscratch.scalar.__file__).parent
EDGE = {"trainer.py"}  # turns NumPy batches into lists of floats


@pytest.mark.parametrize("path", sorted(p for p in SCALAR.glob("*.py") if p.name not in EDGE), ids=lambda p: p.name)
def test_the_math_imports_no_numpy(path):
    imports = imported_modules(path)
    assert not any(name == "numpy" or name.startswith("numpy.") for name in imports), f"{path.name} imports NumPy"
    assert "nnscratch.common.backend" not in imports
