"""The training loop, written once: the MLP ``Trainer`` here, and ``ConvTrainer`` on top of it.

One epoch of ``fit``::

    shuffle (seeded) -> for each batch: augment -> forward -> loss -> backward -> clip -> step
    then: validation -> schedule step -> history entry -> early-stopping bookkeeping -> callbacks

Batches hold ``batch_size`` samples, the last one what is left, except that a model with a
BatchNorm layer never gets a last batch of one sample (whose batch statistics would not
exist): that sample joins the batch before. Every sample is seen in every epoch.

The data is moved to the device once, before the first epoch. Nothing is read back to the
host per batch: the epoch's loss and accuracy are summed on the device and converted once,
at the end of the epoch (on a GPU, every ``float(x)`` waits for the device to finish).

Watching. ``Trainer(watcher=watch(model, optimizer))`` (``watch.py``) tells the watcher about
every step (``start_batch`` before the forward, ``after_backward``, ``after_step``), so that it
notes each layer's health every few batches; without a watcher, none of this runs.

Subclasses change the loop through small hooks instead of copying it: ``_augment_batch``
(identity here; ConvTrainer shifts the images) and ``_train_batch`` (one optimization
step on one batch).

Several processes (``mpiexec -n K``, or ``distributed=True``): each trains on its share of every
batch and the gradients are averaged before each step (``data_parallel.py``); the loop calls it
at a few points, each one visible below as ``self.parallel``. ``batch_size`` is the global
batch. Each epoch's permutation is the same on every rank (the shared seed); rank r takes the
samples at positions r, r + K, r + 2K, ... of it, the order padded to a multiple of K by
repeating its first samples (as PyTorch's DistributedSampler). So batch j of the K ranks
together holds the samples of batch j of one process with the same global batch, the last one
included, and training matches one process (to rounding) when K divides the number of
samples; otherwise the last batch sees its K - N mod K padding samples twice. (With BatchNorm,
a rank's last batch of one sample joins the one before, as in one process: the last batches
then differ from one process's.) Metrics are summed over the ranks; only rank 0 runs the
callbacks (printing, checkpoints); an exception on any rank stops every rank
(``World.stop_all_on_error``).

Resuming a run from a checkpoint (``state_dict``, ``save_checkpoint``, ``load_checkpoint``) is
written in ``trainer_state.py``, which ``Trainer`` inherits.

Divergence. A NaN or infinite output or loss stops training with a ``NonFiniteLossError``
naming the epoch and batch; the failing batch is then run again with a check after every
module (``diagnose.locate_non_finite``) to name the first module whose output or gradient
became non-finite. Those checks cost nothing while training goes well. On the CPU the loss
checks its logits at every batch, so non-finite outputs stop the epoch at once; on a GPU that
check would make the host wait for the device at every batch, so there the epoch's batch
losses are checked together when it ends (``CrossEntropyLoss(check_values=...)``).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..common.backend import get_array_module, to_cpu, to_device
from ..common.checks import check_int
from ..common.cross_entropy import CrossEntropyLoss
from ..common.datasets import train_val_split
from ..common.distributed import world
from ..common.divergence import NonFiniteLossError, divergence_message
from ..common.memory import keep_freed_memory
from ..common.progress import progress_bar
from ..common.seed import new_generator
from .batchnorm import BatchNorm
from .data_parallel import DataParallel
from .diagnose import locate_non_finite
from .fit_checks import check_data, check_fit_arguments, check_labels
from .module import Module, no_grad
from .optim import clip_grad_norm
from .trainer_state import TrainerState
from .watch import Watcher

EVAL_BATCH_SIZE = 1000  # evaluation keeps nothing for backward, so larger batches are cheap

Callback = Callable[["Trainer", dict], None]


class Trainer(TrainerState):
    """Trains a classifier ``model`` with ``optimizer`` (see the module docstring for the loop).

    loss: an object with ``forward(logits, targets)`` -> the batch *mean* and ``backward()``
    -> d loss / d logits (default: a new ``CrossEntropyLoss()``). schedule: stepped once per
    epoch (ReduceLROnPlateau gets the validation loss, or the training loss without
    validation). grad_clip: max L2 norm of all gradients together (``clip_grad_norm``).
    callbacks: ``callback(trainer, entry)`` after every epoch, e.g. to print ``entry``.
    quiet: no progress bar (there is none anyway when the output is not a terminal).
    seed: the shuffling order (and the validation split of ``fit(val_split=...)``).
    watcher: a ``watch.Watcher`` of the model, told about every training step (None: not watched).
    distributed: train with every process of an MPI run (True), alone (False), or with every
    process when mpiexec started more than one (None). sync_bn: with several processes,
    BatchNorm statistics over the global batch rather than each process's share.
    """

    def __init__(
        self,
        model: Module,
        optimizer: Any,
        loss: Any = None,
        schedule: Any = None,
        grad_clip: float | None = None,
        callbacks: Sequence[Callback] = (),
        quiet: bool = False,
        seed: int = 0,
        watcher: Watcher | None = None,
        distributed: bool | None = None,
        sync_bn: bool = False,
    ) -> None:
        loss = CrossEntropyLoss() if loss is None else loss
        if getattr(loss, "reduction", "mean") != "mean":
            raise ValueError(f"Trainer: the loss must return the batch mean, got reduction={loss.reduction!r}")
        if grad_clip is not None and not 0 < grad_clip < math.inf:
            raise ValueError(f"Trainer: grad_clip must be a finite number > 0 (or None), got {grad_clip}")
        self.model = model
        self.optimizer = optimizer
        self.loss = loss
        self.schedule = schedule
        self.grad_clip = grad_clip
        self.callbacks = list(callbacks)
        self.quiet = quiet
        self.seed = seed
        self.watcher = watcher
        self.distributed = distributed
        self.sync_bn = sync_bn
        self.parallel: DataParallel | None = None  # set by fit when several processes train
        self.rng = new_generator(seed)
        self.epoch = 0  # epochs completed, over every call of fit
        self.history: list[dict[str, Any]] = []
        # early stopping: the best validation loss so far and the weights that gave it
        self.best_val_loss = math.inf
        self.best_epoch: int | None = None
        self.best_state: dict[str, Any] | None = None
        self.epochs_without_improvement = 0
        self.stopped_early = False

    # ------------------------------------------------------------------ training

    def fit(
        self,
        x: Any,
        y: Any,
        epochs: int,
        batch_size: int,
        val_split: float = 0.0,
        validation: tuple[Any, Any] | None = None,
        early_stopping: int | None = None,
    ) -> list[dict[str, Any]]:
        """Train up to epoch ``epochs`` on x (N, ...) and integer labels y (N,); return this call's history.

        ``epochs`` is the length of the whole run: epochs ``self.epoch + 1 .. epochs`` are
        trained (none when the trainer has already reached it, or stopped early), so a resumed
        trainer finishes the run it was saved from. Validation data comes from ``val_split`` (a
        stratified, seeded fraction of x held out) or ``validation=(x_val, y_val)``.
        ``early_stopping=patience`` stops after that many epochs without a lower validation
        loss and restores the weights of the best epoch. Each history entry: epoch, loss,
        accuracy, val_loss, val_accuracy (None without validation), lr (used in that epoch),
        seconds (the whole epoch) and samples_per_s (training samples over the time of the
        training batches). Training first calls ``common.memory.keep_freed_memory()``, so that
        each step reuses the memory the last one freed. With several processes, ``batch_size``
        is the global batch (a ValueError when their number does not divide it).
        """
        check_fit_arguments(x, y, epochs, batch_size, val_split, validation, early_stopping)
        with self._together(batch_size):
            keep_freed_memory()
            if val_split:
                x, y, x_val, y_val = train_val_split(to_cpu(x), to_cpu(y), val_split, self.seed)
                validation = (x_val, y_val)
            x, y = to_device(x), to_device(y)
            if validation is not None:
                validation = (to_device(validation[0]), to_device(validation[1]))
            self._check_model_accepts(x, y, validation)
            entries = []
            while self.epoch < epochs and not self.stopped_early:
                entries.append(self._run_epoch(x, y, batch_size, validation, early_stopping))
            if early_stopping is not None and self.best_epoch not in (None, self.epoch):
                self.model.load_state_dict(self.best_state)
            return entries

    @contextlib.contextmanager
    def _together(self, batch_size: int) -> Iterator[None]:
        """The inside of ``fit``: with several processes, ``self.parallel`` (a ``DataParallel``, built on
        every rank at once) and an exception on any rank that stops every rank."""
        processes = world(self.distributed)
        with processes.stop_all_on_error():
            if processes.size > 1:
                self.parallel = DataParallel(self.model, processes, self.sync_bn)
                self.parallel.local_batch_size(batch_size)
            try:
                yield
            finally:
                if self.parallel is not None:
                    self.parallel.close()
                    self.parallel = None

    def _run_epoch(
        self, x: Any, y: Any, batch_size: int, validation: tuple[Any, Any] | None, patience: int | None
    ) -> dict[str, Any]:
        self.epoch += 1
        start = time.perf_counter()
        lr = self.optimizer.lr
        loss, accuracy = self._train_epoch(x, y, batch_size)
        train_seconds = time.perf_counter() - start
        if self.parallel is not None:
            self.parallel.end_epoch(self.epoch)
        val_loss, val_accuracy = self._validate(validation) if validation is not None else (None, None)
        if self.schedule is not None:
            if self.schedule.needs_metric:
                self.schedule.step(loss if val_loss is None else val_loss)
            else:
                self.schedule.step()
        entry = {
            "epoch": self.epoch,
            "loss": loss,
            "accuracy": accuracy,
            "val_loss": val_loss,
            "val_accuracy": val_accuracy,
            "lr": lr,
            "seconds": time.perf_counter() - start,
            "samples_per_s": len(x) / train_seconds,
        }
        self.history.append(entry)
        if patience is not None:
            # before the callbacks, so that a checkpoint written by one holds this epoch's bookkeeping
            self.stopped_early = self._should_stop(entry, patience)
        if self.parallel is None or self.parallel.world.is_root:  # one rank prints and writes
            for callback in self.callbacks:
                callback(self, entry)
        return entry

    def _validate(self, validation: tuple[Any, Any]) -> tuple[float, float]:
        """(loss, accuracy) on the validation data; with several processes, each evaluates its share."""
        if self.parallel is None:
            return self.evaluate(*validation)
        return self.parallel.evaluate(self.evaluate, *validation)

    def _train_epoch(self, x: Any, y: Any, batch_size: int) -> tuple[float, float]:
        """One pass over the shuffled data; returns (mean loss, accuracy) over its samples."""
        self.model.train()
        # the order is drawn on the host, so NumPy and CuPy runs see the same batches
        order = to_device(self.rng.permutation(len(x)))
        quiet = self.quiet
        if self.parallel is not None:  # this rank's share of the order and of each batch
            order, batch_size = self.parallel.shard(order), self.parallel.local_batch_size(batch_size)
            quiet = quiet or not self.parallel.world.is_root
        num_batches = self._num_batches(len(order), batch_size)
        loss_sum, correct, batch_losses = 0.0, 0, []
        bar = progress_bar(range(num_batches), quiet=quiet, desc=f"epoch {self.epoch}", unit="batch", leave=False)

        def batch_indices(batch: int) -> Any:
            # the last batch runs to the end: it holds the leftover samples, merged or not
            end = len(order) if batch == num_batches - 1 else (batch + 1) * batch_size
            return order[batch * batch_size : end]

        for batch in bar:
            indices = batch_indices(batch)
            inputs, labels = self._augment_batch(x[indices]), y[indices]
            try:
                loss, logits = self._train_batch(inputs, labels, batch, num_batches)
            except NonFiniteLossError as error:
                raise NonFiniteLossError(f"{error}; {self._where_non_finite(inputs, labels)}") from error
            # device-side sums: no host round-trip per batch
            batch_losses.append(loss)
            loss_sum = loss_sum + loss * len(labels)
            correct = correct + (logits.argmax(axis=1) == labels).sum()
        self._check_finite(batch_losses, num_batches, lambda batch: (x[batch_indices(batch)], y[batch_indices(batch)]))
        loss_sum, correct, count = float(loss_sum), int(correct), len(order)
        if self.parallel is not None:
            loss_sum, correct, count = self.parallel.sum([loss_sum, correct, count])
        return loss_sum / count, correct / count

    def _num_batches(self, num_samples: int, batch_size: int) -> int:
        """Batches per epoch: ceil(num_samples / batch_size), except that a last batch of a single
        sample is merged into the one before when the model has a BatchNorm layer, whose batch
        statistics need more than one sample (the merged batch holds batch_size + 1)."""
        num_batches = math.ceil(num_samples / batch_size)
        single_left = num_batches > 1 and num_samples % batch_size == 1
        if single_left and any(isinstance(module, BatchNorm) for module in self.model.modules()):
            return num_batches - 1
        return num_batches

    def _augment_batch(self, images: Any) -> Any:
        """Data augmentation of one training batch; the identity here (ConvTrainer overrides it)."""
        return images

    def _train_batch(self, inputs: Any, targets: Any, batch: int, num_batches: int) -> tuple[Any, Any]:
        """forward -> loss -> backward -> clip -> step on one batch; returns (loss, logits) still on the device."""
        watcher = self.watcher
        if watcher is not None:
            watcher.start_batch(self.epoch)
        logits = self.model.forward(inputs)
        loss = self._loss(logits, targets, batch, num_batches)
        self.optimizer.zero_grad()
        self.model.backward(self.loss.backward())
        if self.parallel is not None:
            self.parallel.average_gradients()
        if watcher is not None:
            watcher.after_backward()
        if self.grad_clip is not None:
            clip_grad_norm(self.optimizer.params, self.grad_clip)
        self.optimizer.step()
        if watcher is not None:
            watcher.after_step(loss)
        return loss, logits

    def _loss(self, logits: Any, targets: Any, batch: int, num_batches: int) -> Any:
        """The loss, turning "the logits are NaN/inf" into a NonFiniteLossError that says where."""
        try:
            return self.loss.forward(logits, targets)
        except ValueError as error:
            # CrossEntropyLoss refuses non-finite logits: that is divergence, not bad input
            if bool(get_array_module(logits).isfinite(logits).all()):
                raise
            raise NonFiniteLossError(self._divergence_message(batch, num_batches, "the network's outputs")) from error

    def _check_finite(self, batch_losses: list, num_batches: int, batch_data: Callable[[int], tuple]) -> None:
        """End of an epoch: a NonFiniteLossError for the first batch whose loss was NaN or infinite.

        batch_data(batch) gives that batch's (inputs, labels), to run it again (with the weights
        as they are now, after the epoch) and name the first module that goes non-finite.
        """
        xp = get_array_module(batch_losses[0])
        finite = xp.isfinite(xp.stack(batch_losses))
        if not bool(finite.all()):
            batch = int(xp.argmax(~finite))
            where = self._where_non_finite(*batch_data(batch))
            raise NonFiniteLossError(f"{self._divergence_message(batch, num_batches, 'the loss')}; {where}")

    def _where_non_finite(self, inputs: Any, labels: Any) -> str:
        """``locate_non_finite`` on this batch, run by this process alone (see ``DataParallel.alone``)."""
        with self.parallel.alone() if self.parallel is not None else contextlib.nullcontext():
            return locate_non_finite(self.model, self.loss, inputs, labels)

    def _divergence_message(self, batch: int, num_batches: int, what: str) -> str:
        where = divergence_message(self.epoch, batch, num_batches, what, self.optimizer.lr)
        return f"{where}; try a lower learning rate or gradient clipping"

    def _should_stop(self, entry: dict[str, Any], patience: int) -> bool:
        """Early stopping: remember the best weights; True after ``patience`` epochs without improvement."""
        if entry["val_loss"] < self.best_val_loss:
            self.best_val_loss, self.best_epoch = entry["val_loss"], entry["epoch"]
            self.best_state = {name: array.copy() for name, array in self.model.state_dict().items()}
            self.epochs_without_improvement = 0
            return False
        self.epochs_without_improvement += 1
        return self.epochs_without_improvement >= patience

    def _check_model_accepts(self, x: Any, y: Any, validation: tuple[Any, Any] | None) -> None:
        """Run one sample through the model (eval mode, nothing kept) so that an input of the wrong
        shape fails with the layer's own message, and check the labels against the number of outputs,
        all before the first update; the same for the validation data, evaluated after each epoch."""
        self.num_classes = int(self.predict_logits(x[:1]).shape[1])
        check_labels("Trainer.fit", y, self.num_classes)
        if validation is not None:
            self.predict_logits(validation[0][:1])
            check_labels("Trainer.fit", validation[1], self.num_classes, name="validation labels")

    # ------------------------------------------------------------------ inference

    def evaluate(self, x: Any, y: Any, batch_size: int = EVAL_BATCH_SIZE) -> tuple[float, float]:
        """(mean loss, accuracy) of the model on x, y, in eval mode and without caching for backward."""
        check_data("Trainer.evaluate", "x", "y", x, y)
        x, y = to_device(x), to_device(y)
        loss_sum, correct = 0.0, 0
        for start, logits in self._logits_in_batches(x, batch_size):
            labels = y[start : start + len(logits)]
            loss_sum = loss_sum + self.loss.forward(logits, labels) * len(labels)
            correct = correct + (logits.argmax(axis=1) == labels).sum()
        return float(loss_sum) / len(x), int(correct) / len(x)

    def predict_logits(self, x: Any, batch_size: int = EVAL_BATCH_SIZE) -> Any:
        """The model's outputs (N, num_classes) for x, on the active device, in eval mode."""
        x = to_device(x)
        xp = get_array_module(x)
        return xp.concatenate([logits for _, logits in self._logits_in_batches(x, batch_size)])

    def predict(self, x: Any, batch_size: int = EVAL_BATCH_SIZE) -> Any:
        """The predicted class index of every sample of x: (N,) int64, on the active device."""
        return self.predict_logits(x, batch_size).argmax(axis=1)

    def _logits_in_batches(self, x: Any, batch_size: int):
        """(start, logits) for consecutive slices of x, computed in eval mode under no_grad()."""
        check_int("Trainer", "batch_size", batch_size)
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for start in range(0, len(x), batch_size):
                    yield start, self.model.forward(x[start : start + batch_size])
        finally:
            self.model.train(was_training)
