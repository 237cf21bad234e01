"""Data-parallel training of one model by several processes: what the trainers call under mpiexec.

``DataParallel(model, world)`` is not a wrapper: the model is unchanged and trained as in one
process; the trainer calls a few lines of this at fixed points of its loop::

    start of fit     DataParallel(model, world, sync_bn)   rank 0's weights and buffers to every rank
    every epoch      order = parallel.shard(order)          this rank's strided share of the permutation
    every batch      parallel.average_gradients()           between backward and the optimizer step
    end of an epoch  parallel.sum([...])                    loss, accuracy, validation over every rank
                     parallel.end_epoch(epoch)              rank 0's BatchNorm buffers; replicas checked
    end of fit       parallel.close()                       BatchNorm back to this process's statistics

The gradients are averaged by a call in the loop rather than by a backward hook on the model:
a hook would also fire in a backward that one rank runs alone (``diagnose.locate_non_finite``
after a NaN), whose Allreduce would then be paired with another rank's unrelated one.

Each rank runs batches of ``batch_size / K`` (``local_batch_size``), so K ranks together take
one step per global batch of ``batch_size``. Every rank starts from rank 0's weights and
applies the same averaged gradient, so the replicas stay bit-identical; ``check_replicas``
proves it once per epoch with a checksum of every parameter.

BatchNorm. By default each rank normalises with its own batch's statistics (as PyTorch's
DDP), and its running statistics drift apart from the other ranks': ``end_epoch`` gives every
rank rank 0's, so that validation and checkpoints see one model. With ``sync_bn`` the
statistics are those of the global batch (``BatchNorm.sync``: the sums are summed over the
ranks in forward and backward), which is what one process with the global batch computes.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..common.backend import get_array_module, to_cpu
from ..common.distributed import GradientAverager, World, batch_share_problem, shard_indices
from .batchnorm import BatchNorm
from .module import Module


class ReplicasDiffer(RuntimeError):
    """The processes of a data-parallel run no longer hold the same weights."""


class DataParallel:
    """The data-parallel side of training ``model`` on the ranks of ``world`` (see the module docstring).

    Built on every rank at the same point (it broadcasts): rank 0's parameters and buffers
    overwrite every other rank's. sync_bn: BatchNorm statistics over the global batch.
    """

    def __init__(self, model: Module, world: World, sync_bn: bool = False) -> None:
        self.model = model
        self.world = world
        for parameter in model.parameters():
            world.broadcast(parameter.data)
        self.broadcast_buffers()
        self.averager = GradientAverager(model.parameters(), world)
        self.batchnorms = [module for module in model.modules() if isinstance(module, BatchNorm)]
        self.sync_bn = sync_bn
        self._sync_batchnorms(sync_bn)

    def local_batch_size(self, batch_size: int) -> int:
        """Each rank's share of a global batch of ``batch_size``; a ValueError when K does not divide it."""
        problem = batch_share_problem("batch_size", batch_size, self.world.size)
        if problem:
            raise ValueError(problem)
        return batch_size // self.world.size

    def shard(self, order: Any) -> Any:
        """This rank's share of the epoch's order (N,) -> (ceil(N / K),), see ``distributed.shard_indices``."""
        return shard_indices(order, self.world.rank, self.world.size)

    def average_gradients(self) -> None:
        """Every parameter's gradient becomes its mean over the ranks (bucketed Allreduce)."""
        self.averager.average()

    def sum(self, values: Sequence[float]) -> list[float]:
        """The sums over every rank of a few numbers (loss sums, counts of correct answers, sample counts)."""
        return self.world.sum(values)

    def sum_statistics(self, sums: Any, count: int) -> tuple[Any, int]:
        """--sync-bn: per-channel sums (C,) over this rank's batch of ``count`` values per channel ->
        the sums and the count over every rank's batch, in one Allreduce."""
        xp = get_array_module(sums)
        both = self.world.allreduce_sum(xp.concatenate([sums, xp.asarray([count], dtype=sums.dtype)]))
        return both[:-1], int(both[-1])

    def evaluate(self, evaluate: Callable[[Any, Any], tuple[float, float]], x: Any, y: Any) -> tuple[float, float]:
        """(mean loss, accuracy) over x (N, ...), y (N,) with each rank evaluating every K-th sample
        through ``evaluate`` (the trainer's) and the results summed over the ranks."""
        rank, size = self.world.rank, self.world.size
        count = len(range(rank, len(x), size))
        loss, accuracy = evaluate(x[rank::size], y[rank::size]) if count else (0.0, 0.0)
        loss_sum, correct, total = self.sum([loss * count, accuracy * count, count])
        return loss_sum / total, correct / total

    def broadcast_buffers(self) -> None:
        """Rank 0's buffers (BatchNorm's running statistics) to every rank."""
        for _, buffer in self.model.named_buffers():
            self.world.broadcast(buffer)

    def end_epoch(self, epoch: int) -> None:
        """After an epoch's training: one set of BatchNorm buffers (rank 0's, unless --sync-bn kept
        them equal already), and the check that the replicas are identical."""
        if self.batchnorms and not self.sync_bn:
            self.broadcast_buffers()
        self.check_replicas(epoch)

    def check_replicas(self, epoch: int) -> None:
        """A ReplicasDiffer naming the first parameter whose bytes differ between rank 0 and another rank.

        The checksum is CRC-32 of each parameter's bytes: cheap beside an epoch, and any
        difference in any bit changes it (almost surely).
        """
        xp = get_array_module(self.model.parameters()[0].data)
        names = [name for name, _ in self.model.named_parameters()]
        checksums = [zlib.crc32(to_cpu(parameter.data).tobytes()) for parameter in self.model.parameters()]
        own = xp.asarray(checksums, dtype=xp.int64)
        root = self.world.broadcast(own.copy())
        differing = self.world.allreduce_sum((own != root).astype(xp.int64))
        if bool(differing.any()):
            first = int(xp.argmax(differing != 0))
            raise ReplicasDiffer(
                f"after epoch {epoch}, parameter {names[first]!r} differs between rank 0 and "
                f"{int(differing[first])} other rank(s): the replicas are no longer identical"
            )

    def close(self) -> None:
        """The end of the run together: every BatchNorm back to this process's own statistics."""
        self._sync_batchnorms(False)

    def _sync_batchnorms(self, sync: bool) -> None:
        """Every BatchNorm's statistics over the global batch (``sum_statistics``), or this rank's (None)."""
        for module in self.batchnorms:
            module.sync = self.sum_statistics if sync else None

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        """Inside: BatchNorm uses this rank's statistics only, so that a forward run by one rank
        alone (diagnosing a NaN) does not wait for the other ranks."""
        self._sync_batchnorms(False)
        try:
            yield
        finally:
            self._sync_batchnorms(self.sync_bn)
