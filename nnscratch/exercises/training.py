"""``exercises train``: ``nnscratch mlp`` and ``nnscratch train lenet``, made of the learner's classes.

Each run is the command's own (``MLPRun``, ``TrainRun``: the same checks, data, trainer and
report); only its ``build`` differs: once the library has built the model, the optimizer and
the loss, every object whose class the learner wrote is given the learner's class instead.
The learner's classes subclass the library's and hold the same attributes, so that is all it
takes; Conv2D and MaxPool2D are also put on the reference routes the learner's methods implement.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from .catalog import EXERCISES, Exercise

# what each model is made of: every exercise whose class or function it runs
MODELS = {
    "mlp": ("cross-entropy", "linear", "activations", "dropout", "batchnorm", "adam"),
    "lenet": ("cross-entropy", "linear", "activations", "sgd", "im2col", "col2im", "conv2d", "maxpool"),
}
MODEL_TITLES = {"mlp": "the MLP", "lenet": "LeNet-5"}
# the library routes the learner's methods are: Conv2D.col2im_backward, MaxPool2D's "windows" backward
REFERENCE_ROUTES = {"Conv2D": "im2col", "MaxPool2D": "windows"}


def needed(model: str) -> list[Exercise]:
    return [exercise for exercise in EXERCISES if exercise.name in MODELS[model]]


def replacements(exercises: Iterable[Exercise], modules: dict[str, ModuleType]) -> dict[type, type]:
    """Library class -> the learner's class, for every class the exercises override."""
    classes = {}
    for exercise in exercises:
        library = importlib.import_module(exercise.module)
        for owner in {qualname.rpartition(".")[0] for qualname in exercise.targets} - {""}:
            classes[getattr(library, owner)] = getattr(modules[exercise.file], owner)
    return classes


def swap_classes(objects: Iterable[Any], classes: dict[type, type]) -> int:
    """Give each object whose class is a key of ``classes`` the learner's class; how many were swapped."""
    swapped = 0
    for thing in objects:
        learner_class = classes.get(type(thing))
        if learner_class is None:
            continue
        thing.__class__ = learner_class
        if type(thing).__name__ in REFERENCE_ROUTES:
            thing.algorithm = REFERENCE_ROUTES[type(thing).__name__]
        swapped += 1
    return swapped


class LearnerBuild:
    """Mixed in before a ``TrainingRun``: its ``build``, then the learner's classes swapped in."""

    classes: dict[type, type] = {}

    def build(self, dataset: Any, record: dict) -> None:
        super().build(dataset, record)
        optimizer = getattr(self.optimizer, "base", self.optimizer)  # inside Lookahead, if there is one
        swap_classes([*self.model.modules(), optimizer, self.trainer.loss], self.classes)

    @property
    def title(self) -> str:
        return f"{super().title} of your layers"


def learner_run(run_class: type, args: Any, classes: dict[type, type]) -> Any:
    """An instance of ``run_class`` (MLPRun, TrainRun) for ``args`` whose model is made of ``classes``."""
    run_type = type(f"Learner{run_class.__name__}", (LearnerBuild, run_class), {"classes": classes})
    return run_type(args)
