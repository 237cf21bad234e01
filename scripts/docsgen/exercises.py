"""The Exercises pages: the overview table, and one section per exercise, from ``nnscratch.exercises``.

Each section shows the task, the stub exactly as ``nnscratch exercises start`` writes it (and
links the whole file, added to the site by the build hook), the command that checks it and,
folded, the library's code that solves it, read from the library's source at build time.
"""

from __future__ import annotations

from nnscratch.exercises.catalog import EXERCISES, FILES, select
from nnscratch.exercises.stubs import file_source, library_source, member

from .markdown import collapsible, fenced, table

STUBS_DIR = "exercises"  # under the generated assets: assets/generated/exercises/step1_neuron.py ...


def stub_files() -> dict[str, str]:
    """Every learner's file as ``exercises start DIR`` writes it (with DIR spelled ``DIR``)."""
    return {file: file_source(file) for file in FILES}


def overview() -> str:
    """One row per exercise: its number, what it asks, the file it lives in, the library symbol it rewrites."""
    rows = [
        (
            exercise.number,
            f"[{exercise.title}](list.md#{exercise.name})",
            f"`{exercise.name}`",
            f"`{exercise.file}`",
            # the module and the names apart: one dotted code span (nowrap in tables) would widen the table
            f"`{exercise.module.removeprefix('nnscratch.')}`: " + ", ".join(f"`{t}`" for t in exercise.targets),
        )
        for exercise in EXERCISES
    ]
    return table(["#", "exercise", "NAME", "file", "solution in the library"], rows, "r")


def section(name: str) -> str:
    """One exercise: heading, task, shapes, hint, the stub, the check command, the solution (folded)."""
    (exercise,) = select([name])
    stub = "\n".join(member(exercise, target, solutions=False, folder="DIR") for target in exercise.targets)
    solution = "\n\n".join(library_source(exercise.module, target) for target in exercise.targets)
    symbols = ", ".join(f"`{exercise.module}.{target}`" for target in exercise.targets)
    return "\n\n".join(
        [
            f"## {exercise.number}. {exercise.title} {{#{exercise.name}}}",
            f"In [`{exercise.file}`](../assets/generated/{STUBS_DIR}/{exercise.file}); the library's "
            f"{symbols} is the solution.",
            exercise.task.replace("\n", " "),
            f"**Shapes:** {exercise.shapes}",
            f"**Hint:** {exercise.hint}",
            "The stub (inside its class, for a method):",
            fenced(stub, "python"),
            "Check it:",
            fenced(f"$ nnscratch exercises check DIR {exercise.name}", "console"),
            collapsible("The library's solution", fenced(solution, "python"), kind="note"),
        ]
    )
