"""What a trainer saves and restores, so that a run can be cut between epochs and resumed.

``fit(..., epochs=N)`` trains *up to* epoch N: a new trainer runs epochs 1..N; a
trainer that has completed k epochs (in an earlier ``fit``, or loaded with
``load_state_dict``/``load_checkpoint``) runs epochs k+1..N, and nothing when k >= N. So a
run of N epochs can be cut anywhere between epochs and continued, even in another process,
with the same call. ``state_dict()`` holds all a resumed run needs besides the model,
optimizer and schedule: the epoch, the history, the state of every generator the trainer
draws from (``named_generators``: shuffling here, augmentation in ConvTrainer) and the
early-stopping bookkeeping with the best weights; the model's Dropout streams travel with the
model (``Module.extra_state_dict``). With everything restored, the resumed epochs are the
uninterrupted run's, bit for bit. A run that stopped early is over: ``fit`` trains no further.
With early stopping, ``fit`` hands back the best epoch's weights when it returns, so a run
that is to be continued exactly is checkpointed from inside ``fit`` (``common.autosave``: a
callback keeps the state after every epoch, and Ctrl-C saves that), not after it returns.

``TrainerState`` is the part of ``Trainer`` that does this; it reads the trainer's model,
optimizer, schedule, epoch, seed, history and early-stopping bookkeeping.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..common.checkpoint import Checkpoint, CheckpointError, checkpoint_state, read_checkpoint, write_checkpoint
from ..common.checks import check_int
from ..common.state import copy_state, state_problems


class TrainerState:
    """Checkpoints of a training run: ``state_dict``/``load_state_dict`` of the trainer's own state,
    ``save_checkpoint``/``load_checkpoint`` of the whole run. See the module docstring."""

    def named_generators(self) -> dict[str, np.random.Generator]:
        """Every NumPy generator the trainer draws from, by attribute name: ``{"rng": ...}`` (the
        shuffling) here, and ConvTrainer's ``augment_rng`` too. Found by walking the attributes, so
        a subclass's generators are checkpointed without more code; override this to add
        generators kept inside other objects."""
        return {name: value for name, value in vars(self).items() if isinstance(value, np.random.Generator)}

    def unused_generators(self) -> set[str]:
        """The generators this run never draws from: their state stays the seed's, so a checkpoint
        written before one existed may lack it (it loads, the generator left as seeded). None here."""
        return set()

    def state_dict(self) -> dict[str, Any]:
        """The trainer's own state, for checkpoints: plain values, and arrays (live, not copied)::

            {"epoch", "seed", "history": [entries], "generators": {name: bit_generator.state},
             "early_stopping": {"best_val_loss", "best_epoch", "best_state", "epochs_without_improvement",
                                "stopped_early"}}

        best_val_loss is None before the first validation (JSON has no infinity).
        """
        return {
            "epoch": self.epoch,
            "seed": self.seed,
            "history": self.history,
            "generators": {name: rng.bit_generator.state for name, rng in self.named_generators().items()},
            "early_stopping": {
                "best_val_loss": None if math.isinf(self.best_val_loss) else self.best_val_loss,
                "best_epoch": self.best_epoch,
                "best_state": self.best_state,
                "epochs_without_improvement": self.epochs_without_improvement,
                "stopped_early": self.stopped_early,
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict()``. The generators (same names, same kinds, valid states) and the
        best weights (the model's names and shapes) are checked first: a ValueError names every
        problem, and nothing is changed."""
        owner = f"{type(self).__name__}.load_state_dict"
        generators, saved = self.named_generators(), state["generators"]
        expected = [name for name in generators if name in saved or name not in self.unused_generators()]
        problems = [f"generators: {problem}" for problem in state_problems(dict.fromkeys(expected), saved)]
        for name, rng in generators.items():
            if name in saved:
                try:
                    type(rng.bit_generator)().state = saved[name]  # a scratch generator of the same kind
                except (ValueError, TypeError, KeyError) as error:
                    problems.append(f"generator {name!r}: {error}")
        stopping = state["early_stopping"]
        if stopping["best_state"] is not None:
            problems += [f"best_state {p}" for p in state_problems(self.model.state_dict(), stopping["best_state"])]
        if problems:
            raise ValueError(f"{owner}: " + " | ".join(problems))
        epoch, seed = check_int(owner, "epoch", state["epoch"], low=0), int(state["seed"])
        best_val_loss = math.inf if stopping["best_val_loss"] is None else float(stopping["best_val_loss"])
        waited, stopped = int(stopping["epochs_without_improvement"]), bool(stopping["stopped_early"])
        for name in expected:
            generators[name].bit_generator.state = saved[name]
        self.epoch, self.seed, self.history = epoch, seed, copy_state(state["history"])
        self.best_val_loss, self.best_epoch = best_val_loss, stopping["best_epoch"]
        self.best_state = copy_state(stopping["best_state"])
        self.epochs_without_improvement, self.stopped_early = waited, stopped

    def checkpoint_state(self) -> dict[str, Any]:
        """The whole run's state (model, optimizer, schedule, trainer), as ``save_checkpoint`` stores it."""
        return checkpoint_state(self.model, self.optimizer, self.schedule, self.state_dict())

    def save_checkpoint(self, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
        """Write the whole run's state and ``metadata`` to ``path``, atomically (``common.checkpoint``)."""
        return write_checkpoint(path, self.checkpoint_state(), metadata)

    def load_checkpoint(self, path: str | Path, expected: dict[str, Any] | None = None) -> Checkpoint:
        """Restore model, optimizer, schedule and trainer from ``path``: all of them or, on any problem
        (a CheckpointError naming the file and what differs), none. The next ``fit`` resumes the run.

        The optimizer and schedule must exist already, as in the saved run: a checkpoint holding
        a schedule's state refuses to load into a trainer without one (ConvTrainer's default
        schedule, made in ``fit``, must be made before loading).
        """
        checkpoint = read_checkpoint(path)
        checkpoint.check_metadata(expected)
        for part, owner in (("optimizer", self.optimizer), ("schedule", self.schedule)):
            if owner is None and part in checkpoint.state:
                saved_type = checkpoint.state[part].get("type")
                raise CheckpointError(
                    f"{checkpoint.path}: holds the state of a {saved_type} {part}, and this trainer has no {part}: "
                    f"create the same {part} before loading"
                )
        checkpoint.restore(self.model, self.optimizer, self.schedule, self)
        return checkpoint
