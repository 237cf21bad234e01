"""``common/distributed.py`` and ``vectorized/data_parallel.py`` in one process: the shards, the buckets,
the one-process world, synchronised BatchNorm (two "ranks" as threads), and the errors.

What needs several processes is in ``test_mpi_training.py``.
"""

from __future__ import annotations

import math
import re
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.common import distributed
from nnscratch.common.distributed import GradientAverager, World, launched_size, shard_indices
from nnscratch.vectorized.batchnorm import BatchNorm1D
from nnscratch.vectorized.data_parallel import DataParallel
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.module import Parameter


@given(st.integers(1, 200), st.integers(1, 5))
def test_shards_are_equal_strided_and_cover_every_sample(num_samples, size):
    order = np.random.default_rng(num_samples).permutation(num_samples)
    shards = [shard_indices(order, rank, size) for rank in range(size)]
    assert {len(shard) for shard in shards} == {math.ceil(num_samples / size)}
    assert set(np.concatenate(shards)) == set(range(num_samples))
    padding = -num_samples % size  # DistributedSampler's: the first samples of the order once more
    assert sorted(np.concatenate(shards)) == sorted([*order, *order[:padding]])


@given(st.integers(1, 8), st.integers(1, 4), st.integers(1, 6))
def test_batch_j_of_every_rank_together_is_batch_j_of_one_process(local_batch, size, num_batches):
    order = np.random.default_rng(0).permutation(local_batch * size * num_batches)
    global_batch = local_batch * size
    for batch in range(num_batches):
        ranks = [
            shard_indices(order, rank, size)[batch * local_batch : (batch + 1) * local_batch] for rank in range(size)
        ]
        one_process = order[batch * global_batch : (batch + 1) * global_batch]
        assert sorted(np.concatenate(ranks)) == sorted(one_process)


def test_gradient_buckets_are_consecutive_parameters_of_one_dtype_within_the_size():
    shapes = [(10, 10), (10,), (30, 10), (10,), (5,)]
    parameters = [Parameter(np.zeros(shape, dtype=np.float32)) for shape in shapes]
    parameters.append(Parameter(np.zeros(3, dtype=np.float64)))
    averager = GradientAverager(parameters, World(), bucket_bytes=1000)
    buckets = [bucket for bucket, _ in averager.buckets]
    assert [len(bucket) for bucket in buckets] == [2, 1, 2, 1]  # 440 B | 1200 B alone | 60 B | float64
    assert [p for bucket in buckets for p in bucket] == parameters
    assert [buffer.dtype for _, buffer in averager.buckets] == [np.float32] * 3 + [np.float64]
    assert [buffer.size for _, buffer in averager.buckets] == [110, 300, 15, 3]


def test_one_process_world_leaves_arrays_and_gradients_alone():
    world = World()
    assert (world.rank, world.size, world.is_root) == (0, 1, True)
    array = np.arange(4.0)
    assert world.allreduce_sum(array) is array and world.broadcast(array) is array
    np.testing.assert_array_equal(array, np.arange(4.0))
    assert world.sum([1.5, 2.0]) == [1.5, 2.0]
    parameter = Parameter(np.ones(3, dtype=np.float32))
    parameter.grad += 2
    GradientAverager([parameter], world).average()
    np.testing.assert_array_equal(parameter.grad, [2, 2, 2])
    with pytest.raises(ValueError, match="passes through"), world.stop_all_on_error():
        raise ValueError("passes through")


def test_the_launcher_size_comes_from_mpiexec_environment(monkeypatch):
    for name in distributed.LAUNCHER_SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert launched_size() == 1
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert launched_size() == 4


def test_distributed_without_mpi4py_is_a_runtime_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setattr(distributed, "_worlds", {})
    with pytest.raises(RuntimeError, match=r"pip install 'nnscratch\[distributed\]'"):
        distributed.world(True)


def test_a_global_batch_the_processes_cannot_share_is_refused_by_name():
    two_processes = World()
    two_processes.size = 2  # no communicator: every collective call returns at once
    parallel = DataParallel(build_mlp(4, [3], 2), two_processes)
    assert parallel.local_batch_size(64) == 32
    with pytest.raises(ValueError, match="batch_size 63 is the global batch: it must be divisible by the 2 processes"):
        parallel.local_batch_size(63)


def test_validation_shared_by_the_ranks_keeps_a_fractional_accuracy_such_as_pixel_accuracy():
    two_processes = World()
    two_processes.size = 2  # no communicator: the sums over the ranks are this rank's own
    parallel = DataParallel(build_mlp(4, [3], 2), two_processes)
    seen = []

    def evaluate(x, y):
        seen.append(len(x))
        return 0.5, 0.3  # 0.3 of the pixels right: not a whole number of samples

    assert parallel.evaluate(evaluate, np.zeros((3, 4)), np.zeros(3)) == pytest.approx((0.5, 0.3))
    assert seen == [2]  # rank 0 of 2 evaluates samples 0 and 2


class ThreadedRanks:
    """``BatchNorm.sync`` for ``size`` threads standing in for ranks: each call returns the sums of all."""

    def __init__(self, size: int) -> None:
        self.barrier = threading.Barrier(size)
        self.parts: list = [None] * size

    def sync_of(self, rank: int):
        def sync(sums, count):
            self.parts[rank] = (sums.copy(), count)
            self.barrier.wait()
            total = sum(part[0] for part in self.parts), sum(part[1] for part in self.parts)
            self.barrier.wait()  # nobody overwrites its part before everyone has read them all
            return total

        return sync


def test_synchronised_batchnorm_over_two_halves_is_batchnorm_over_the_whole_batch():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (8, 5))
    grad_y = rng.normal(size=(8, 5))
    whole = BatchNorm1D(5).to(np.float64)
    y, grad_x = whole.forward(x), whole.backward(grad_y)
    ranks = ThreadedRanks(2)
    halves = [BatchNorm1D(5).to(np.float64) for _ in range(2)]
    results: list = [None, None]

    def run(rank: int) -> None:
        halves[rank].sync = ranks.sync_of(rank)
        rows = slice(4 * rank, 4 * rank + 4)
        results[rank] = halves[rank].forward(x[rows]), halves[rank].backward(grad_y[rows])

    threads = [threading.Thread(target=run, args=(rank,)) for rank in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    np.testing.assert_allclose(np.concatenate([r[0] for r in results]), y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([r[1] for r in results]), grad_x, rtol=1e-12, atol=1e-12)
    for half in halves:  # the running statistics are the whole batch's, on every rank
        np.testing.assert_allclose(half.running_mean, whole.running_mean, rtol=1e-12)
        np.testing.assert_allclose(half.running_var, whole.running_var, rtol=1e-12)
    # each rank keeps its own share of the parameter gradients: the trainer averages them afterwards
    np.testing.assert_allclose(halves[0].weight.grad + halves[1].weight.grad, whole.weight.grad, rtol=1e-12)
    np.testing.assert_allclose(halves[0].bias.grad + halves[1].bias.grad, whole.bias.grad, rtol=1e-12)


def test_only_common_distributed_imports_mpi4py():
    package = Path(distributed.__file__).parents[1]
    importers = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if re.search(r"^\s*(from|import) mpi4py", path.read_text(), re.MULTILINE)
    }
    assert importers == {"common/distributed.py"}


def augmented_first_batch(monkeypatch, rank: int, seed: int = 3):
    """The first augmented batch ConvTrainer trains on as ``rank`` of 2 (a world without a communicator,
    whose collective calls return at once), on images that are all the same image."""
    from nnscratch.convolutional.modules import Conv2D, Flatten, Sequential
    from nnscratch.convolutional.trainer import ConvTrainer
    from nnscratch.vectorized import trainer as trainer_module
    from nnscratch.vectorized.modules import Linear
    from nnscratch.vectorized.optim import SGD

    fake = World()
    fake.rank, fake.size = rank, 2
    monkeypatch.setattr(trainer_module, "world", lambda distributed: fake)
    model = Sequential(Conv2D(1, 2, 3, seed=0), Flatten(), Linear(2 * 6 * 6, 3, seed=0))
    trainer = ConvTrainer(model, SGD(model.parameters(), lr=0.01), quiet=True, seed=seed)
    batches = []
    augment = trainer._augment_batch
    trainer._augment_batch = lambda images: batches.append(augment(images)) or batches[-1]
    image = np.random.default_rng(0).normal(size=(1, 1, 8, 8)).astype(np.float32)
    trainer.fit(np.repeat(image, 8, axis=0), np.arange(8) % 3, epochs=1, batch_size=8)
    return batches[0]


def test_each_rank_draws_its_own_augmentations_again_the_same_from_the_seed(monkeypatch):
    rank_0, rank_1 = augmented_first_batch(monkeypatch, 0), augmented_first_batch(monkeypatch, 1)
    assert not np.array_equal(rank_0, rank_1)
    np.testing.assert_array_equal(augmented_first_batch(monkeypatch, 1), rank_1)
