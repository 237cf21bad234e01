"""Checkpoints while training: every N epochs, at the end, and after an interruption.

    autosave = Autosave("run.npz", metadata, every=5)
    trainer.callbacks.append(autosave)      # after every epoch: keep a copy, write every 5th
    autosave.record(trainer)                # the state before the first epoch of this fit
    try:
        trainer.fit(x, y, epochs, batch_size)
    except KeyboardInterrupt:
        autosave.write()                    # the state after the last *complete* epoch
    else:
        autosave.record(trainer)
        autosave.write()                    # the final state

Why a copy after every epoch: Ctrl-C can come in the middle of an epoch, when the weights
have taken some of its steps and the generators have drawn some of its numbers. Saving that
would resume a half-done epoch that can never be finished the same way. The copy is the
state at the end of the last complete epoch, so resuming it repeats nothing and skips
nothing: the resumed run is the uninterrupted one, bit for bit. It costs one copy of the
weights and optimizer moments per epoch (a memory copy: far less than an epoch's work).

The same copy is what a diverging run keeps: when training stops with a non-finite loss,
nothing of the failing epoch is written, and the last good checkpoint stays on disk. A
state whose weights already hold NaN or infinity (the last steps of an epoch can get there
before any loss shows it) is not a good one: ``record`` keeps the previous copy instead and
returns False, so neither ``write`` nor the every-N-epochs checkpoint ever saves it.

A trainer fits when it has ``epoch`` and ``checkpoint_state()`` (the nested state of
``checkpoint.checkpoint_state``): the vectorized and convolutional trainers and the scalar
one all do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .checkpoint import non_finite_entries, write_checkpoint
from .checks import check_int
from .state import copy_state


class Autosave:
    """Keeps the state after the last complete epoch and writes it to ``path`` (see the module docstring).

    path: where checkpoints go (None: only ``write(path)`` with an explicit path writes).
    metadata: the record stored with every checkpoint. every: also write after every
    ``every``-th epoch (counted over the whole run, so resuming keeps the rhythm); None:
    only when ``write`` is called.
    """

    def __init__(self, path: str | Path | None, metadata: dict[str, Any] | None = None, every: int | None = None):
        if every is not None:
            check_int("Autosave", "every", every)
            if path is None:
                raise ValueError("Autosave: every needs a path to write to")
        self.path = None if path is None else Path(path)
        self.metadata = dict(metadata or {})
        self.every = every
        self.state: dict[str, Any] | None = None
        self.epoch: int | None = None  # the epoch count of the state kept
        self.written: tuple[Path, int] | None = None  # the last checkpoint written: (path, epoch)

    def record(self, trainer: Any) -> bool:
        """Keep a copy of the trainer's whole state as it is now; False (the previous copy kept, and
        ``epoch`` still its epoch) when the model's weights hold NaN or infinity."""
        state = trainer.checkpoint_state()
        if non_finite_entries(state):
            return False
        self.state = copy_state(state)
        self.epoch = trainer.epoch
        return True

    def __call__(self, trainer: Any, entry: dict[str, Any]) -> None:
        """The trainer callback: keep the state after this epoch; write it every ``every`` epochs."""
        if self.record(trainer) and self.every is not None and trainer.epoch % self.every == 0:
            self.write()

    def write(self, path: str | Path | None = None) -> Path:
        """Write the kept state to ``path`` (default: the Autosave's path), atomically; return the path."""
        if self.state is None:
            raise RuntimeError("Autosave.write: nothing recorded yet (call record(trainer) first)")
        path = self.path if path is None else Path(path)
        if path is None:
            raise ValueError("Autosave.write: no path given, and the Autosave has none")
        write_checkpoint(path, self.state, self.metadata)
        self.written = (path, self.epoch)
        return path
