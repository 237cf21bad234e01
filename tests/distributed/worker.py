"""What the distributed tests run, in one process or under ``mpiexec -n K``.

    python -m tests.distributed.worker MODEL OUT [--save PATH] [--fail-rank R [--fail-epoch E]]
                                                 [--sleep-rank R] [--perturb]

trains MODEL (``mlp``, ``lenet`` or ``bn-cnn``, the last with --sync-bn) on the first
``SAMPLES`` images of the bundled sample for ``STEPS`` optimizer steps of the global batch
``BATCH``, with ``fit`` (which detects mpiexec itself), and writes every rank's parameters to
``OUT.rank{R}.npz``: one process and K processes are then compared by the test. No dropout and
no augmentation, so that one process and K processes draw nothing differently.

--save PATH: rank 0 writes a checkpoint there after every epoch;
--fail-rank R: rank R raises a ValueError in the first step of epoch E (default 1), while the
others train on; --sleep-rank R: rank R sleeps in its first step, for the test to kill it;
--perturb: after epoch 1, rank 0 (the only one that runs callbacks) changes its ``0.bias``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from nnscratch.common.augment import Augmentation
from nnscratch.common.datasets import load_dataset
from nnscratch.common.distributed import world
from nnscratch.common.seed import manual_seed
from nnscratch.convolutional.architectures import build
from nnscratch.convolutional.modules import BatchNorm2D, Conv2D, Flatten, MaxPool2D, ReLU, Sequential
from nnscratch.convolutional.trainer import ConvTrainer
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.modules import Linear
from nnscratch.vectorized.optim import SGD
from nnscratch.vectorized.trainer import Trainer

SAMPLES = 160  # divisible by the 2 ranks: one process and 2 ranks see the same batches
BATCH = 16
STEPS = 20  # two epochs of 10 steps


def build_trainer(model_name: str) -> Trainer:
    """The model, its SGD with momentum, and its trainer, from seed 0."""
    manual_seed(0)
    if model_name == "mlp":
        model = build_mlp(28 * 28, [32], 10)
    elif model_name == "lenet":
        model = build("lenet")
    else:  # a small CNN whose BatchNorm statistics matter
        model = Sequential(
            Conv2D(1, 4, 3, padding=1), BatchNorm2D(4), ReLU(), MaxPool2D(2), Flatten(), Linear(4 * 14 * 14, 10)
        )
    # a moderate rate: the two runs differ by float32 rounding (sums in another order), which
    # larger steps through BatchNorm's backward amplify beyond the tests' tolerance
    optimizer = SGD(model.parameters(), lr=0.02, momentum=0.9)
    if model_name == "mlp":
        return Trainer(model, optimizer, quiet=True)
    return ConvTrainer(model, optimizer, augmentation=Augmentation.none(), quiet=True, sync_bn=model_name == "bn-cnn")


class FailOnce:
    """Replaces the trainer's augmentation step on one rank: raise (or sleep) at the first batch of ``epoch``."""

    def __init__(self, trainer: Trainer, how: str, epoch: int) -> None:
        self.trainer, self.how, self.epoch = trainer, how, epoch

    def __call__(self, images):
        if self.trainer.epoch == self.epoch:
            if self.how == "raise":
                raise ValueError("bad input on purpose")
            time.sleep(600)
        return images


def perturb_first_bias(trainer: Trainer, entry: dict) -> None:
    if entry["epoch"] == 1:
        trainer.model.parameters()[1].data += 1e-3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", choices=["mlp", "lenet", "bn-cnn"])
    parser.add_argument("out")
    parser.add_argument("--save")
    parser.add_argument("--fail-rank", type=int)
    parser.add_argument("--fail-epoch", type=int, default=1)
    parser.add_argument("--sleep-rank", type=int)
    parser.add_argument("--perturb", action="store_true")
    args = parser.parse_args()
    trainer = build_trainer(args.model)
    rank = world().rank
    if rank in (args.fail_rank, args.sleep_rank):
        trainer._augment_batch = FailOnce(trainer, "raise" if rank == args.fail_rank else "sleep", args.fail_epoch)
        print(f"rank {rank} pid {os.getpid()}", flush=True)
    if args.save:
        trainer.callbacks.append(lambda trainer, entry: trainer.save_checkpoint(args.save))
    if args.perturb:
        trainer.callbacks.append(perturb_first_bias)
    dataset = load_dataset("sample")
    x = dataset.normalize(dataset.x_train[:SAMPLES])
    if args.model == "mlp":
        x = x.reshape(SAMPLES, -1)
    trainer.fit(x, dataset.y_train[:SAMPLES], epochs=STEPS * BATCH // SAMPLES, batch_size=BATCH)
    np.savez(f"{args.out}.rank{rank}.npz", **{name: p.data for name, p in trainer.model.named_parameters()})


if __name__ == "__main__":
    main()
