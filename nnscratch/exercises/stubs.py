"""Write the learner's files from the library's own source, so that the stubs cannot drift from it.

For each file of ``catalog.FILES``: every exercise's function, or a subclass of the library's
class that overrides only the exercise's methods. Each keeps the library's signature (read
with ``inspect`` and ``ast``), gets a docstring with the task, the shapes and a hint, and its
body becomes ``raise NotImplementedError("exercise N ...")``. With ``solutions=True`` the body
is the library's own instead: the answer key the tests check, and that ``--solutions`` writes.

The helpers the library's bodies call (``get_array_module``, ``kernel_offset`` ...) are imported
at the top, from where they are defined, so a solution runs as written and the learner sees
what the library used.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import textwrap
import types
from dataclasses import dataclass
from typing import Any

from .catalog import EXERCISES, FILES, Exercise

INDENT = "    "


def library_source(module: str, qualname: str) -> str:
    """The source text of ``module.qualname`` (a function, or a method even if inherited), dedented."""
    target = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return textwrap.dedent(inspect.getsource(inspect.unwrap(target)))


@dataclass(frozen=True)
class Source:
    """One library function or method, taken apart: its ``def`` line(s) and its body without the docstring."""

    header: str
    body: str
    free_names: frozenset[str]

    @classmethod
    def of(cls, module: str, qualname: str) -> Source:
        text = library_source(module, qualname)
        node = ast.parse(text).body[0]
        lines = text.splitlines()
        # the signature ends at the first line ending in ":"; a comment after it belongs to the body
        header_end = next(n for n in range(node.lineno, node.body[0].lineno) if lines[n - 1].rstrip().endswith(":"))
        body_start = node.body[0].end_lineno if ast.get_docstring(node) is not None else header_end
        header = "\n".join(lines[node.lineno - 1 : header_end])
        body = textwrap.dedent("\n".join(lines[body_start : node.end_lineno])).strip("\n")
        return cls(header, body, frozenset(_free_names(node)))


def _free_names(function: ast.FunctionDef) -> set[str]:
    """Names the function reads that it does not bind itself: its globals and builtins."""
    bound = {arg.arg for arg in ast.walk(function.args) if isinstance(arg, ast.arg)}
    loaded = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.Lambda)) and node is not function:
            bound.update(arg.arg for arg in ast.walk(node.args) if isinstance(arg, ast.arg))
    return loaded - bound - set(dir(builtins))


def docstring(exercise: Exercise, folder: str) -> str:
    """The stub's docstring: the task, the shapes, the hint and the command that checks it."""
    paragraphs = [exercise.task, f"Shapes: {exercise.shapes}", f"Hint: {exercise.hint}"]
    text = "\n\n".join(textwrap.fill(paragraph, 88, break_on_hyphens=False) for paragraph in paragraphs)
    return (
        f'"""Exercise {exercise.number} ({exercise.name}): {exercise.title}.\n\n{text}\n\n'
        f'Check: nnscratch exercises check {folder} {exercise.name}\n"""'
    )


def _indented(text: str, depth: int) -> str:
    return textwrap.indent(text, INDENT * depth, lambda line: bool(line.strip()))


def member(exercise: Exercise, qualname: str, solutions: bool, folder: str) -> str:
    """One function or method of an exercise, at the indentation of its place (method: 1 level)."""
    source = Source.of(exercise.module, qualname)
    if solutions:
        body = source.body
    else:
        body = (
            f'raise NotImplementedError("exercise {exercise.number} ({exercise.name}): {qualname} is yours to write")'
        )
    text = f"{source.header}\n{_indented(docstring(exercise, folder), 1)}\n{_indented(body, 1)}\n"
    return _indented(text, qualname.count("."))


def given(exercise: Exercise, qualname: str) -> str:
    """A method copied whole (docstring included) from the library, marked as given."""
    text = library_source(exercise.module, qualname)
    return _indented(f"# given, as the library has it: it calls this file's functions\n{text}", 1)


def import_of(name: str, value: Any, fallback_module: str) -> tuple[str, str]:
    """(module, clause) that binds ``name`` to ``value`` as the library has it: ``from module import clause``,
    or ``import clause`` when module is ""."""
    if isinstance(value, types.ModuleType):
        parent, _, leaf = value.__name__.rpartition(".")
        if leaf == name and parent:
            return parent, name
        return "", value.__name__ if value.__name__ == name else f"{value.__name__} as {name}"
    origin = getattr(value, "__module__", None)
    if not (origin and getattr(importlib.import_module(origin), name, None) is value):
        origin = fallback_module
    return origin, name


def import_lines(imports: set[tuple[str, str]]) -> str:
    """The import statements for ``import_of``'s pairs: plain imports, the standard library's, then nnscratch's."""
    plain = [f"import {clause}" for module, clause in sorted(imports) if not module]
    modules = sorted({module for module, _ in imports if module}, key=lambda name: (name.startswith("nnscratch"), name))
    grouped = []
    for module in modules:
        names = sorted(clause for m, clause in imports if m == module)
        line = f"from {module} import {', '.join(names)}"
        if len(line) > 100:  # one name a line, as a formatter would
            line = f"from {module} import (\n" + "".join(f"{INDENT}{name},\n" for name in names) + ")"
        grouped.append(line)
    standard = plain + [line for line in grouped if not line.startswith("from nnscratch")]
    ours = [line for line in grouped if line.startswith("from nnscratch")]
    return "\n\n".join("\n".join(group) for group in (standard, ours) if group)


def file_source(file: str, solutions: bool = False, folder: str = "DIR") -> str:
    """The whole learner's file ``file``: docstring, imports, then each function and class in course order."""
    exercises = [exercise for exercise in EXERCISES if exercise.file == file]
    functions = {q for e in exercises for q in e.targets if "." not in q}
    imports, blocks, classes = set(), [], {}
    for exercise in exercises:
        library = vars(importlib.import_module(exercise.module))
        for qualname in exercise.given + exercise.targets:
            free = Source.of(exercise.module, qualname).free_names - functions
            imports.update(import_of(name, library[name], exercise.module) for name in free)
        for qualname in exercise.given + exercise.targets:
            owner, _, _ = qualname.rpartition(".")
            if not owner:
                blocks.append(member(exercise, qualname, solutions, folder))
                continue
            if owner not in classes:
                classes[owner] = len(blocks)
                imports.add((exercise.module, f"{owner} as Library{owner}"))
                blocks.append(
                    f"class {owner}(Library{owner}):\n"
                    f'    """The library\'s {owner}, with your methods; everything else is inherited."""\n'
                )
            text = (
                given(exercise, qualname)
                if qualname in exercise.given
                else member(exercise, qualname, solutions, folder)
            )
            blocks[classes[owner]] += "\n" + text
    numbers = ", ".join(str(exercise.number) for exercise in exercises)
    numbers = f"Exercise{'s' if len(exercises) > 1 else ''} {numbers}"
    header = (
        f'"""{FILES[file]}\n\n{numbers} of `nnscratch exercises`. Replace each '
        f"`raise NotImplementedError` with your code;\ncheck with `nnscratch exercises check {folder}`.\n"
        f'The imports are the helpers the library\'s own solutions call: use them, or not."""\n\n'
        "from __future__ import annotations\n\n"
    )
    return header + import_lines(imports) + "\n\n\n" + "\n\n".join(blocks)
