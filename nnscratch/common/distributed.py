"""Several processes training one model: the MPI world, and the only module that imports mpi4py.

Data-parallel training (``mpiexec -n K nnscratch mlp ...``) runs K copies of the same program,
one process per rank. Every rank holds the whole model; each takes a different K-th of every
batch. The gradient of the mean loss over a global batch of B samples is the average of the
K gradients of the mean loss over each rank's B/K samples:

    dL/dw = 1/B * sum_i dl_i/dw = 1/K * sum_r (K/B * sum_{i in rank r} dl_i/dw)

so after backward every rank sums its gradients with everyone else's (``Allreduce``), divides
by K, and takes the same optimizer step from the same weights: the replicas stay identical.

What this module gives (see ``world``):

- ``World``: rank, size, ``is_root``; in-place ``allreduce_sum`` and ``broadcast`` (from rank 0)
  of an array, ``barrier``; and ``stop_all_on_error``, which turns an exception on one rank
  into "rank R: <cause>" and ``MPI_Abort``, so the other ranks stop instead of waiting forever
  in their next collective call.
- ``GradientAverager``: the gradients of consecutive parameters are copied into a few large
  preallocated buffers (buckets) and each bucket is summed in one ``Allreduce``: one call per
  bucket, not one per parameter, since every call pays a fixed latency.
- ``shard_indices``: each rank's share of an epoch's shuffled order, as PyTorch's
  ``DistributedSampler``.

mpi4py is imported on first use, so a single process never needs it (the ``[distributed]``
extra installs it and MPICH). The arrays passed to MPI are the backend's: CPU NumPy arrays
with the MPICH wheel, which is not CUDA-aware.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .backend import get_array_module

# what mpiexec sets in each process it starts: MPICH's and Intel's hydra, Open MPI
LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")
# the buffers one Allreduce sums; large enough that the call's latency is small beside the transfer
BUCKET_BYTES = 4 * 2**20
ABORT_GRACE_SECONDS = 1.0
MISSING_MPI = "distributed training needs mpi4py and an MPI library: pip install 'nnscratch[distributed]'"


def launched_size() -> int:
    """How many processes mpiexec started for this run (1 when it was not started by mpiexec)."""
    for name in LAUNCHER_SIZE_VARIABLES:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def _mpi() -> Any:
    """mpi4py's ``MPI`` module (importing it initialises MPI), or a RuntimeError naming the extra."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError(MISSING_MPI) from error
    return MPI


class World:
    """The processes of one run. ``comm``: an MPI communicator, or None for a single process.

    rank: 0 .. size - 1; ``is_root``: rank 0, the one that prints and writes files. Every
    collective call (``allreduce_sum``, ``broadcast``, ``barrier``) must be made by every rank
    in the same order; with one process they return at once.
    """

    def __init__(self, comm: Any = None) -> None:
        self.comm = comm
        self.rank = 0 if comm is None else comm.Get_rank()
        self.size = 1 if comm is None else comm.Get_size()

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def __repr__(self) -> str:
        return f"World(rank={self.rank}, size={self.size})"

    def allreduce_sum(self, array: Any) -> Any:
        """Replace the contiguous ``array`` by its elementwise sum over every rank, in place; return it."""
        if self.comm is not None:
            _check_contiguous("World.allreduce_sum", array)
            self.comm.Allreduce(_mpi().IN_PLACE, array, op=_mpi().SUM)
        return array

    def broadcast(self, array: Any) -> Any:
        """Overwrite the contiguous ``array`` on every rank with rank 0's, in place; return it."""
        if self.comm is not None:
            _check_contiguous("World.broadcast", array)
            self.comm.Bcast(array, root=0)
        return array

    def sum(self, values: Sequence[float]) -> list[float]:
        """The sums over every rank of a few numbers (metrics, counts), in float64."""
        return self.allreduce_sum(np.array(values, dtype=np.float64)).tolist()

    def barrier(self) -> None:
        """Return once every rank has called it."""
        if self.comm is not None:
            self.comm.Barrier()

    def abort(self, cause: str, status: int = 1) -> None:
        """Print "rank R: cause" on stderr and end every rank of the run (mpiexec exits with ``status``)."""
        print(f"rank {self.rank}: {cause}", file=sys.stderr, flush=True)
        # mpiexec tears the job down as soon as it hears of the abort, dropping what its pipes still
        # hold: a moment first, so that the line reaches the user (cut short when mpiexec interrupts
        # this rank because another one aborted first)
        with contextlib.suppress(KeyboardInterrupt):
            time.sleep(ABORT_GRACE_SECONDS)
        self.comm.Abort(status)
        os._exit(status)  # MPI_Abort returns when another rank's abort is already ending the job

    @contextlib.contextmanager
    def stop_all_on_error(self) -> Iterator[None]:
        """An exception on this rank aborts every rank (one line naming the rank and the cause, exit 1).

        Without it the other ranks would wait forever in their next collective call for a rank
        that is gone. A normal end, and ``SystemExit(0)``, leave the run alone.
        """
        if self.comm is None:
            yield
            return
        try:
            yield
        except SystemExit as exit_:
            if exit_.code not in (0, None):
                self.abort(f"exited with status {exit_.code}", exit_.code if isinstance(exit_.code, int) else 1)
            raise
        except BaseException as error:  # Ctrl-C or a bug alike: no rank may be left waiting
            self.abort(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)


def _check_contiguous(owner: str, array: Any) -> None:
    if not array.flags.c_contiguous:
        raise ValueError(f"{owner}: array must be C-contiguous, got a view of shape {tuple(array.shape)}")


_worlds: dict[bool, World] = {}


def world(distributed: bool | None = None) -> World:
    """This process's ``World`` (made once per mode, then reused).

    distributed: True for MPI (a RuntimeError naming the ``[distributed]`` extra when mpi4py is
    missing); False for a single process; None to decide from the environment: MPI when
    mpiexec started more than one process. The first MPI world also limits BLAS to the
    cores of its rank (``limit_blas_threads``).
    """
    use_mpi = launched_size() > 1 if distributed is None else bool(distributed)
    if use_mpi not in _worlds:
        _worlds[use_mpi] = World(_mpi().COMM_WORLD) if use_mpi else World()
        if use_mpi:
            limit_blas_threads(_worlds[use_mpi])
    return _worlds[use_mpi]


def limit_blas_threads(world_: World) -> int | None:
    """Let BLAS use this rank's share of the cores: the cores this process may run on, divided by
    the ranks on this machine (2 ranks on 16 cores: 8 threads each). K ranks each running as many
    BLAS threads as there are cores would fight over them. An ``OMP_NUM_THREADS`` or
    ``OPENBLAS_NUM_THREADS`` set by the user is theirs and kept. Returns the limit set (None: kept).
    """
    if "OMP_NUM_THREADS" in os.environ or "OPENBLAS_NUM_THREADS" in os.environ:
        return None
    from threadpoolctl import threadpool_limits

    local_ranks = world_.comm.Split_type(_mpi().COMM_TYPE_SHARED).Get_size()
    # the cores this process may run on (its affinity), where the system says (not on macOS)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = max(1, cores // local_ranks)
    threadpool_limits(limits=threads, user_api="blas")
    return threads


def batch_share_problem(name: str, batch_size: int, processes: int) -> str | None:
    """Why a global batch of ``batch_size`` (the option ``name``) cannot be shared out by ``processes``
    (None: each takes batch_size / processes)."""
    if batch_size % processes == 0:
        return None
    return (
        f"{name} {batch_size} is the global batch: it must be divisible by the {processes} processes "
        f"(each takes {name} / {processes})"
    )


def shard_indices(order: Any, rank: int, size: int) -> Any:
    """Rank ``rank``'s share of an epoch's order (N,) of sample indices, as ``DistributedSampler``:
    the order is padded by repeating its first samples to a multiple of ``size``, and rank r takes
    every size-th index from position r. Every rank gets ceil(N / size) indices, so all run the
    same number of steps, and batch j of every rank together is batch j of one process with a
    ``size`` times larger batch (the same samples, in another order).

    (N,) -> (ceil(N / size),).
    """
    padding = -len(order) % size
    xp = get_array_module(order)
    padded = xp.concatenate([order, order[:padding]]) if padding else order
    return padded[rank::size]


class GradientAverager:
    """Averages the gradients of ``parameters`` (each with ``.grad``) over the ranks of ``world_``.

    The parameters are cut, in their order, into buckets of up to ``bucket_bytes`` (a parameter
    larger than that gets a bucket of its own), each with one preallocated buffer of the
    parameters' dtype (float32 by default). ``average()`` copies each bucket's gradients into
    its buffer, sums the buffer over the ranks in one ``Allreduce``, divides by the number of
    ranks, and copies the result back into the gradients.
    """

    def __init__(self, parameters: Sequence[Any], world_: World, bucket_bytes: int = BUCKET_BYTES) -> None:
        self.world = world_
        self.buckets: list[tuple[list[Any], Any]] = []
        bucket: list[Any] = []
        for parameter in parameters:
            full = bucket and sum(p.grad.nbytes for p in bucket) + parameter.grad.nbytes > bucket_bytes
            if bucket and (full or parameter.grad.dtype != bucket[0].grad.dtype):
                self._add_bucket(bucket)
                bucket = []
            bucket.append(parameter)
        if bucket:
            self._add_bucket(bucket)

    def _add_bucket(self, parameters: list[Any]) -> None:
        xp = get_array_module(parameters[0].grad)
        buffer = xp.empty(sum(p.grad.size for p in parameters), dtype=parameters[0].grad.dtype)
        self.buckets.append((parameters, buffer))

    def average(self) -> None:
        """Replace every gradient by its mean over the ranks (one Allreduce per bucket)."""
        if self.world.size == 1:
            return
        for parameters, buffer in self.buckets:
            xp = get_array_module(buffer)
            xp.concatenate([p.grad.ravel() for p in parameters], out=buffer)
            self.world.allreduce_sum(buffer)
            buffer /= self.world.size
            offset = 0
            for parameter in parameters:
                parameter.grad[...] = buffer[offset : offset + parameter.grad.size].reshape(parameter.grad.shape)
                offset += parameter.grad.size
