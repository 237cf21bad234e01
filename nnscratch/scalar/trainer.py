"""Training a scalar ``Network``: shuffle, mini-batches, one optimizer step per batch, history.

One epoch of ``fit``::

    shuffle the training samples (seeded)
    for each batch of batch_size samples:
        zero the gradients
        per sample: forward, loss, backward of (softmax - onehot) / N   (Network.forward_backward)
        one optimizer step
    then: validation (dropout off) -> history entry -> callbacks

A batch whose loss is NaN or infinite stops training with a ``NonFiniteLossError`` naming the
epoch and the batch (``common/divergence.py``), before the optimizer takes its step.

The loop has the shape of the vectorized tier's ``Trainer`` (same ``fit`` arguments, same
history entries, same resume semantics), one sample at a time instead of one matrix per batch.

Resuming: ``fit(..., epochs=N)`` trains up to epoch N, so a trainer that has completed k
epochs (in an earlier ``fit``, or restored by ``load_checkpoint``) runs epochs k+1..N.
``state_dict()`` holds the epoch, the history and the shuffling generator's state; the
network's weights and dropout streams and the optimizer's buffers are saved next to it
(``checkpoint_state()``), so a resumed run repeats the uninterrupted one exactly.

Images arrive as NumPy arrays and become lists of Python floats here, at the edge, one batch
at a time (``.tolist()``); everything after that is Python floats. Converting a batch costs
well under 1% of its forward and backward, while all of Fashion-MNIST as Python floats would
take some 1.5 GB instead of the array's 188 MB.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..common.checkpoint import Checkpoint, checkpoint_state, load_checkpoint, write_checkpoint
from ..common.checks import check_int
from ..common.datasets import train_val_split
from ..common.divergence import NonFiniteLossError, divergence_message
from ..common.progress import progress_bar
from .network import Network
from .optim import SGD, Adam
from .rng_state import random_state, restored_random

Callback = Callable[["Trainer", dict], None]


def as_rows(x: Any) -> np.ndarray:
    """Samples (N, ...) of any shape as a float array (N, features): row i is sample i flattened."""
    array = np.asarray(x)
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    return array.reshape(len(array), -1)


class Trainer:
    """Trains ``network`` with ``optimizer`` (SGD or Adam of ``nnscratch.scalar.optim``).

    callbacks: ``callback(trainer, entry)`` after every epoch, e.g. to print ``entry``.
    quiet: no progress bars. seed: the shuffling order and the validation split.
    ``history`` collects every epoch's entry, over every call of ``fit``.
    """

    def __init__(
        self,
        network: Network,
        optimizer: SGD | Adam,
        callbacks: Sequence[Callback] = (),
        quiet: bool = False,
        seed: int = 0,
    ) -> None:
        self.network = network
        self.optimizer = optimizer
        self.callbacks = list(callbacks)
        self.quiet = quiet
        self.seed = seed
        self.rng = random.Random(seed)
        self.epoch = 0  # epochs completed, over every call of fit
        self.history: list[dict[str, Any]] = []

    def fit(self, x: Any, y: Any, epochs: int, batch_size: int, val_split: float = 0.0) -> list[dict[str, Any]]:
        """Train up to epoch ``epochs`` on samples x (N, ...) with labels y (N,); return this call's history.

        ``epochs`` is the length of the whole run: epochs ``self.epoch + 1 .. epochs`` are
        trained (none when the trainer has already reached it), so a resumed trainer finishes
        the run it was saved from.

        val_split: the fraction of x held out for validation, stratified by class and seeded
        (``train_val_split``). Each history entry: epoch, loss, accuracy (means over the
        epoch's batches, while the weights change), val_loss, val_accuracy (after the epoch;
        None without validation), lr, seconds (the whole epoch) and samples_per_s (training
        samples over the time of the training batches).
        """
        epochs = check_int("Trainer.fit", "epochs", epochs)
        batch_size = check_int("Trainer.fit", "batch_size", batch_size)
        _check_samples("Trainer.fit", x, y)
        x_train, y_train, x_val, y_val = train_val_split(as_rows(x), np.asarray(y), val_split, self.seed)
        entries = []
        while self.epoch < epochs:
            self.epoch += 1
            start = time.perf_counter()
            # a fresh order each epoch, not the last one reshuffled: then the order depends only on
            # the generator's state, which is what a checkpoint keeps
            order = list(range(len(x_train)))
            self.rng.shuffle(order)
            loss, accuracy = self._train_epoch(x_train, y_train, order, batch_size)
            train_seconds = time.perf_counter() - start
            val_loss, val_accuracy = self._evaluate(x_val, y_val, "validate") if len(x_val) else (None, None)
            entry = {
                "epoch": self.epoch,
                "loss": loss,
                "accuracy": accuracy,
                "val_loss": val_loss,
                "val_accuracy": val_accuracy,
                "lr": self.optimizer.lr,
                "seconds": time.perf_counter() - start,
                "samples_per_s": len(order) / train_seconds,
            }
            self.history.append(entry)
            entries.append(entry)
            for callback in self.callbacks:
                callback(self, entry)
        return entries

    def predict(self, x: Any) -> list[int]:
        """The predicted class of every sample of x (N, ...), with dropout off."""
        rows = as_rows(x)
        was_training = self.network.training
        self.network.eval()
        try:
            return [self.network.predict(row) for row in rows.tolist()]
        finally:
            self.network.train(was_training)

    def evaluate(self, x: Any, y: Any) -> tuple[float, float]:
        """(mean loss, accuracy) on samples x (N, ...) with labels y (N,), with dropout off."""
        _check_samples("Trainer.evaluate", x, y)
        return self._evaluate(as_rows(x), np.asarray(y), "evaluate")

    def _train_epoch(self, x: np.ndarray, y: np.ndarray, order: list[int], batch_size: int) -> tuple[float, float]:
        """One pass over the samples in ``order``; returns (mean loss, accuracy) over them."""
        network = self.network.train()
        total_loss, correct, seen = 0.0, 0, 0
        batch_starts = range(0, len(order), batch_size)
        bar = progress_bar(batch_starts, quiet=self.quiet, desc=f"epoch {self.epoch}", unit="batch", leave=False)
        for index, begin in enumerate(bar):
            batch = order[begin : begin + batch_size]
            network.zero_grad()
            loss, batch_correct = network.forward_backward(x[batch].tolist(), y[batch].tolist())
            if not math.isfinite(loss):  # a Python float: checking every batch costs nothing
                where = divergence_message(self.epoch, index, len(batch_starts), "the loss", self.optimizer.lr)
                raise NonFiniteLossError(f"{where}; try a lower learning rate")
            self.optimizer.step()
            total_loss += loss * len(batch)
            correct += batch_correct
            seen += len(batch)
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", refresh=False)
        return total_loss / seen, correct / seen

    def _evaluate(self, x: np.ndarray, y: np.ndarray, desc: str) -> tuple[float, float]:
        was_training = self.network.training
        self.network.eval()
        total_loss, correct = 0.0, 0
        chunk_size = 100  # samples converted to Python floats at a time
        try:
            with progress_bar(total=len(x), quiet=self.quiet, desc=desc, unit="sample", leave=False) as bar:
                for begin in range(0, len(x), chunk_size):
                    chunk = slice(begin, begin + chunk_size)
                    loss, chunk_correct = self.network.evaluate(x[chunk].tolist(), y[chunk].tolist())
                    total_loss += loss * len(x[chunk])
                    correct += chunk_correct
                    bar.update(len(x[chunk]))
        finally:
            self.network.train(was_training)
        return total_loss / len(x), correct / len(x)

    # ------------------------------------------------------------------ checkpoints

    def state_dict(self) -> dict[str, Any]:
        """``{"epoch", "seed", "history", "generators": {"rng": random_state}}``: plain values, for checkpoints."""
        return {
            "epoch": self.epoch,
            "seed": self.seed,
            "history": self.history,
            "generators": {"rng": random_state(self.rng)},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict()``; a ValueError (and nothing changed) if it is malformed."""
        owner = "Trainer.load_state_dict"
        if set(state["generators"]) != {"rng"}:
            raise ValueError(f"{owner}: expected the generator 'rng', got {sorted(state['generators'])}")
        try:
            rng = restored_random(state["generators"]["rng"])
        except ValueError as error:
            raise ValueError(f"{owner}: generator 'rng': {error}") from None
        epoch, history = check_int(owner, "epoch", state["epoch"], low=0), [dict(entry) for entry in state["history"]]
        self.epoch, self.seed, self.rng, self.history = epoch, int(state["seed"]), rng, history

    def checkpoint_state(self) -> dict[str, Any]:
        """The whole run's state (network, optimizer, trainer), as ``save_checkpoint`` stores it."""
        return checkpoint_state(self.network, self.optimizer, None, self.state_dict())

    def save_checkpoint(self, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
        """Write the whole run's state and ``metadata`` to ``path``, atomically (``common.checkpoint``)."""
        return write_checkpoint(path, self.checkpoint_state(), metadata)

    def load_checkpoint(self, path: str | Path, expected: dict[str, Any] | None = None) -> Checkpoint:
        """Restore network, optimizer and trainer from ``path`` (all or none); the next ``fit`` resumes the run."""
        return load_checkpoint(path, self.network, self.optimizer, None, self, expected)


def _check_samples(where: str, x: Any, y: Any) -> None:
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"{where}: need as many labels as samples (at least one), got {len(x)} and {len(y)}")
