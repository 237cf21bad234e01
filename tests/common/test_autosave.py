"""Autosave: a copy of the state after every epoch, written every N epochs and on demand."""

import numpy as np
import pytest

from nnscratch.common.autosave import Autosave
from nnscratch.common.checkpoint import read_checkpoint


class CountingTrainer:
    """The two things Autosave reads: ``epoch`` and ``checkpoint_state()`` (with a live array)."""

    def __init__(self):
        self.epoch = 0
        self.weights = np.zeros(3)

    def run_epoch(self, autosave):
        self.epoch += 1
        self.weights += 1
        autosave(self, {"epoch": self.epoch})

    def checkpoint_state(self):
        return {"model": {"w": self.weights}, "trainer": {"epoch": self.epoch}}


def test_every_n_epochs_is_written_and_the_copy_kept_is_the_last_complete_epoch(tmp_path):
    trainer, path = CountingTrainer(), tmp_path / "run.npz"
    autosave = Autosave(path, {"architecture": {"name": "test"}}, every=2)
    autosave.record(trainer)
    trainer.run_epoch(autosave)
    assert not path.exists() and autosave.written is None
    trainer.run_epoch(autosave)
    trainer.run_epoch(autosave)
    assert autosave.written == (path, 2)
    saved = read_checkpoint(path)
    assert saved.state["trainer"]["epoch"] == 2 and (saved.state["model"]["w"] == 2).all()
    assert saved.metadata["architecture"] == {"name": "test"}

    trainer.weights += 100  # half of an epoch that never finished: not in the copy
    interrupted = autosave.write(tmp_path / "interrupted.npz")
    assert (read_checkpoint(interrupted).state["model"]["w"] == 3).all() and autosave.written == (interrupted, 3)


def test_bad_use_is_refused():
    with pytest.raises(ValueError, match=r"Autosave: every must be a positive integer, got 0"):
        Autosave("run.npz", every=0)
    with pytest.raises(ValueError, match=r"Autosave: every needs a path to write to"):
        Autosave(None, every=3)
    with pytest.raises(RuntimeError, match=r"Autosave.write: nothing recorded yet"):
        Autosave("run.npz").write()
    autosave = Autosave(None)
    autosave.record(CountingTrainer())
    with pytest.raises(ValueError, match=r"Autosave.write: no path given, and the Autosave has none"):
        autosave.write()


def test_a_state_whose_weights_hold_nan_is_never_kept_nor_written(tmp_path):
    trainer, path = CountingTrainer(), tmp_path / "run.npz"
    autosave = Autosave(path, every=1)
    assert autosave.record(trainer)
    trainer.run_epoch(autosave)
    trainer.run_epoch(autosave)
    assert autosave.written == (path, 2)

    trainer.weights[0] = np.nan  # the last steps of epoch 3 diverged before any loss showed it
    trainer.run_epoch(autosave)
    assert autosave.epoch == 2 and autosave.written == (path, 2), "epoch 3 is not a good state"
    assert not autosave.record(trainer)
    interrupted = autosave.write(tmp_path / "interrupted.npz")  # Ctrl-C now saves epoch 2, the last good one
    saved = read_checkpoint(interrupted)
    assert saved.state["trainer"]["epoch"] == 2 and (saved.state["model"]["w"] == 2).all()
    assert autosave.written == (interrupted, 2)
