"""interop/ uses optional libraries: importing nnscratch imports none, a missing one says how to install it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nnscratch.interop import onnx as interop_onnx
from nnscratch.interop import safetensors as interop_safetensors
from nnscratch.interop import torch as interop_torch

# (the function that imports the library, the library, what the error ends with)
IMPORTERS = [
    (interop_torch._torch, "torch", r"needs PyTorch, which is not installed: pip install torch$"),
    (
        interop_safetensors._safetensors,
        "safetensors",
        r"needs the safetensors package, which is not installed: pip install 'nnscratch\[interop\]'$",
    ),
    (
        interop_onnx._onnx,
        "onnx",
        r"needs the onnx package, which is not installed: pip install 'nnscratch\[interop\]'$",
    ),
]


@pytest.mark.parametrize(("importer", "library", "message"), IMPORTERS, ids=[library for _, library, _ in IMPORTERS])
def test_without_the_library_installed_the_error_says_how_to_install_it(monkeypatch, importer, library, message):
    monkeypatch.setitem(sys.modules, library, None)  # what an absent package looks like to import
    with pytest.raises(ImportError, match=message):
        importer()


def test_importing_nnscratch_and_its_interop_imports_none_of_the_libraries():
    interop = "nnscratch.interop.torch, nnscratch.interop.safetensors, nnscratch.interop.onnx"
    modules = f"nnscratch.cli, nnscratch.convolutional.modules, {interop}"
    code = f"import sys, {modules}; print(*(name in sys.modules for name in ('torch', 'safetensors', 'onnx')))"
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert printed.split() == ["False", "False", "False"]
