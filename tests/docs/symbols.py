"""Resolving the names the docs mention (``ConvTrainer._augment_batch``, ``backend.to_device``,
``np.add.at``, ``neuron.grad_weights``) to real objects, so that a renamed or removed one fails a test.

A dotted name is looked up from its first part, which may be:

- a module of nnscratch, by any tail of its dotted path (``backend``, ``common.backend``,
  ``nnscratch.common.backend``);
- a class, function or constant defined in any module of nnscratch (``ConvTrainer``, ``SGD``);
- a module of another library the docs talk about (``np``, ``torch``, ``os``; ``xp`` is NumPy
  here, as on the CPU);
- a variable name the pages use for an instance (``model``, ``neuron``): then the attribute
  must exist on one of the classes listed for it, or be assigned as ``self.<attribute>`` in its
  source (instance attributes exist only on instances).

The rest of the name is followed attribute by attribute (importing submodules on the way).
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import pkgutil
import re
from functools import cache
from types import ModuleType
from typing import Any

import nnscratch
from nnscratch.common.datasets import Dataset
from nnscratch.convolutional.architectures.classifier import ImageClassifier
from nnscratch.scalar.neuron import Neuron
from nnscratch.vectorized.module import Module, Parameter

EXTERNAL_MODULES = {
    "np": "numpy",
    "numpy": "numpy",
    "xp": "numpy",
    "torch": "torch",
    "os": "os",
    "math": "math",
    "argparse": "argparse",
    "random": "random",
    "json": "json",
}
# mentioned but not installed where the tests run: only the GPU machines have it
UNCHECKED_MODULES = {"cupy"}
# the instance names the pages use, and the classes they stand for
VARIABLES: dict[str, tuple[type, ...]] = {
    "model": (Module, ImageClassifier),
    "neuron": (Neuron,),
    "parameter": (Parameter,),
    "dataset": (Dataset,),
}
FILE_SUFFIXES = set("py png npz onnx json md yml yaml toml txt gz sh js css html".split())
DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+(\(\))?$")


@cache
def package_modules() -> dict[str, ModuleType]:
    """Every module of nnscratch by its full dotted name (``__main__`` excluded: importing it runs the CLI)."""
    modules = {"nnscratch": nnscratch}
    for info in pkgutil.walk_packages(nnscratch.__path__, "nnscratch."):
        if not info.name.endswith("__main__"):
            modules[info.name] = importlib.import_module(info.name)
    return modules


@cache
def defined_names() -> dict[str, list[Any]]:
    """Every class, function and constant of every nnscratch module, by name (a name may have several)."""
    names: dict[str, list[Any]] = {}
    for module in package_modules().values():
        for name, value in vars(module).items():
            if name.startswith("__") or isinstance(value, ModuleType):
                continue
            names.setdefault(name, [])
            if not any(value is known for known in names[name]):
                names[name].append(value)
    return names


def modules_ending_with(dotted: str) -> list[ModuleType]:
    return [module for name, module in package_modules().items() if name == dotted or name.endswith("." + dotted)]


def follow(value: Any, attributes: list[str]) -> bool:
    """True when ``value.a.b.c`` exists for attributes [a, b, c] (importing submodules as needed)."""
    for attribute in attributes:
        if hasattr(value, attribute):
            value = getattr(value, attribute)
        elif isinstance(value, ModuleType):
            try:
                value = importlib.import_module(f"{value.__name__}.{attribute}")
            except ImportError:
                return False
        else:
            return False
    return True


def instance_has(classes: tuple[type, ...], attribute: str) -> bool:
    """An attribute of the class, or one its ``__init__`` (or any method) assigns as ``self.attribute``."""
    assigned = re.compile(rf"self\.{re.escape(attribute)}\s*(:[^=]*)?=[^=]")
    for cls in classes:
        if hasattr(cls, attribute):
            return True
        for klass in cls.__mro__:
            if klass.__module__.startswith("nnscratch") and assigned.search(inspect.getsource(klass)):
                return True
    return False


def is_file_name(text: str) -> bool:
    return text.rsplit(".", 1)[-1] in FILE_SUFFIXES


def resolves(text: str) -> bool:
    """Whether a dotted name such as ``ConvTrainer._augment_batch`` or ``np.add.at`` exists."""
    parts = text.removesuffix("()").split(".")
    for split in range(len(parts), 0, -1):
        head, rest = ".".join(parts[:split]), parts[split:]
        if any(follow(module, rest) for module in modules_ending_with(head)):
            return True
    first, rest = parts[0], parts[1:]
    if any(follow(value, rest) for value in defined_names().get(first, [])):
        return True
    if first in EXTERNAL_MODULES:
        return follow(importlib.import_module(EXTERNAL_MODULES[first]), rest)
    if first in VARIABLES:
        return len(rest) == 1 and instance_has(VARIABLES[first], rest[0])
    return first in UNCHECKED_MODULES


def names_a_class(text: str, classes_of_the_page: set[str]) -> bool:
    """A class or constant of nnscratch (any name its modules define), a builtin, or a class the page defines."""
    return text in defined_names() or hasattr(builtins, text) or text in classes_of_the_page
