"""Check the learner's exercises against the library and print the progress table.

     #  exercise       status        first difference
     1  neuron         done
     3  linear         wrong         Linear(...): weight.grad at index (2, 0): expected 0.31, got -0.19 (...)
     9  im2col         not done yet

"not done yet": the exercise still raises NotImplementedError. "wrong": a number differs from
the library's (the first element that does, with both values), central differences disagree,
the learner's code raised, or its file does not import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .catalog import Exercise
from .learner import alone, describe, load

DONE, NOT_DONE, WRONG = "done", "not done yet", "wrong"


@dataclass(frozen=True)
class Result:
    exercise: Exercise
    status: str
    detail: str = ""


def check_one(exercise: Exercise, module: object, path: Path) -> Result:
    """Run ``exercise.check`` on the learner's module (or the reason it could not be imported)."""
    if isinstance(module, str):
        return Result(exercise, WRONG, module)
    try:
        with alone(module, exercise):
            exercise.check(module)
    except NotImplementedError:
        return Result(exercise, NOT_DONE)
    except AssertionError as error:  # Mismatch: the learner's numbers, not their code, went wrong
        return Result(exercise, WRONG, str(error))
    except Exception as error:  # the learner's code raised: say what and where, on one line
        return Result(exercise, WRONG, f"raised {describe(error, path)}")
    return Result(exercise, DONE)


def check(folder: Path, exercises: Sequence[Exercise]) -> list[Result]:
    """One result per exercise, in the order given; each file is imported once."""
    modules = {file: load(folder / file) for file in dict.fromkeys(exercise.file for exercise in exercises)}
    return [check_one(exercise, modules[exercise.file], folder / exercise.file) for exercise in exercises]


def table(results: Sequence[Result]) -> str:
    """The progress table, then a count of what is done."""
    width = max(len("exercise"), *(len(result.exercise.name) for result in results))
    lines = [f" #  {'exercise':{width}}  {'status':12}  first difference"]
    for result in results:
        exercise = result.exercise
        lines.append(f"{exercise.number:2d}  {exercise.name:{width}}  {result.status:12}  {result.detail}".rstrip())
    done = sum(result.status == DONE for result in results)
    lines.append(f"{done} of {len(results)} done")
    return "\n".join(lines)
