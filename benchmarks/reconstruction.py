"""Same recipe, same reconstructions? The image-to-image models in nnscratch and in PyTorch.

    python -m benchmarks.reconstruction                       autoencoder and tiny_unet, full recipes
    python -m benchmarks.reconstruction --models autoencoder --epochs 3
    python -m benchmarks.reconstruction --quick               smoke run: the bundled sample, 1 epoch

Each model is set up exactly as ``nnscratch reconstruct ARCH`` sets it up with no flag but
--dataset (``ReconstructRun``: the recipe of ``recipes.IMAGE_RECIPES``, pixels scaled to [0, 1],
the targets, the loss, ``ReconstructionTrainer``), and its PyTorch twin gets:

- the same initial weights (``to_torch`` copies them: the same init scheme, the same numbers);
- the same training/validation split (the trainer's own ``_split``, as ``fit`` makes it);
- the same batches, from a generator seeded and drawn as the trainer's shuffling;
- torch.optim's optimizer and lr_scheduler for the recipe (``torch_side``), the same loss
  (``F.mse_loss`` or ``F.binary_cross_entropy_with_logits``, batch means), float32, the same threads.

Epochs alternate between the libraries. After the last one each scores the test set the same
way (``score``: the MSE of the reconstructions; the pixel accuracy and IoU of the masks). The
report (``reconstruction.json`` and ``.md``) gives both and their ratio, nnscratch / PyTorch.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks import same_recipe
from benchmarks.torch_side import EVAL_BATCH_SIZE, torch_optimizer, torch_schedule
from nnscratch.cli import build_parser
from nnscratch.cli.reconstruct import ReconstructRun
from nnscratch.common.datasets import Dataset
from nnscratch.common.seed import manual_seed
from nnscratch.convolutional.architectures import IMAGE_TO_IMAGE
from nnscratch.convolutional.segmentation import mask_scores
from nnscratch.interop.torch import to_torch
from scripts.docsgen.reports import RECONSTRUCTION_FILE, reconstruction_table

TORCH_LOSSES = {"mse": F.mse_loss, "bce-with-logits": F.binary_cross_entropy_with_logits}


def command_run(model: str, dataset: Dataset, epochs: int | None) -> ReconstructRun:
    """``nnscratch reconstruct MODEL --dataset NAME`` set up to the point where it would train."""
    argv = ["reconstruct", model, "--dataset", dataset.name, "--quiet"]
    run = ReconstructRun(build_parser().parse_args([*argv, *(["--epochs", str(epochs)] if epochs else [])]))
    manual_seed(run.args.seed)  # as the command does first: the initial weights are the command's
    problems = run.problems()
    if problems:
        raise ValueError(f"{model}: {'; '.join(problems)}")
    run.build(dataset, {})
    run.trainer.callbacks = []  # the benchmark prints one line per epoch for both libraries
    return run


def score(outputs: np.ndarray, targets: np.ndarray, target: str) -> dict[str, float]:
    """The test scores of output images (N, C, H, W): the MSE of reconstructions, or the mask scores."""
    if target == "mask":
        return mask_scores(outputs, targets)
    return {"mse": float(np.mean((outputs.astype(np.float64) - targets) ** 2))}


@dataclass
class TorchTwin:
    """The PyTorch side: the twin model, torch.optim's optimizer and schedule, the loss, the shuffling."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: Any
    loss: Any
    batch_size: int
    shuffle_rng: np.random.Generator

    def train_epoch(self, x: torch.Tensor, y: torch.Tensor) -> float:
        """One pass over x, y in a fresh shuffled order (the Trainer's loop in torch); the mean loss."""
        self.model.train()
        order = torch.from_numpy(self.shuffle_rng.permutation(len(x)))
        loss_sum = torch.zeros((), dtype=x.dtype)
        for first in range(0, len(x), self.batch_size):
            indices = order[first : first + self.batch_size]
            loss = self.loss(self.model(x[indices]), y[indices])
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            loss_sum += loss.detach() * len(indices)
        if self.schedule is not None:
            self.schedule.step()
        return float(loss_sum) / len(x)

    def predict(self, x: torch.Tensor) -> np.ndarray:
        """The output images for x, in eval mode, in batches of 1000 (as nnscratch's ``predict``)."""
        self.model.eval()
        with torch.inference_mode():
            outputs = [self.model(x[i : i + EVAL_BATCH_SIZE]) for i in range(0, len(x), EVAL_BATCH_SIZE)]
        return torch.cat(outputs).numpy()


def torch_twin(run: ReconstructRun) -> TorchTwin:
    settings = run.args
    model = to_torch(run.model)
    optimizer = torch_optimizer(settings, model.parameters())
    return TorchTwin(
        model=model,
        optimizer=optimizer,
        schedule=torch_schedule(settings, optimizer),
        loss=TORCH_LOSSES[run.recipe.loss],
        batch_size=settings.batch_size,
        shuffle_rng=np.random.default_rng(settings.seed),  # as the Trainer seeds its shuffling
    )


def train_both(model: str, dataset: Dataset, epochs: int | None, pause: float) -> dict[str, Any]:
    """Train ``model``'s recipe in both libraries, epochs alternating; one result of the report."""
    run = command_run(model, dataset, epochs)
    twin = torch_twin(run)
    settings, trainer = run.args, run.trainer
    x, y, x_val, y_val = trainer._split(run.x_train, run.y_train, settings.val_split)  # the split fit makes
    x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)
    seconds = {"nnscratch": 0.0, "pytorch": 0.0}
    print(f"{model}: {settings.epochs} epochs of {len(x):,} images ({run.recipe.loss}), {len(x_val):,} for validation")
    for epoch in range(1, settings.epochs + 1):
        time.sleep(pause)  # see benchmarks/timing.py: the other library's threads stop spinning
        (entry,) = trainer.fit(x, y, epoch, settings.batch_size, validation=(x_val, y_val))
        seconds["nnscratch"] += entry["seconds"]
        time.sleep(pause)
        start = time.perf_counter()
        loss = twin.train_epoch(x_torch, y_torch)
        val_loss = float(twin.loss(torch.from_numpy(twin.predict(torch.from_numpy(x_val))), torch.from_numpy(y_val)))
        seconds["pytorch"] += time.perf_counter() - start
        print(
            f"  epoch {epoch}/{settings.epochs}  nnscratch loss {entry['loss']:.4f} val {entry['val_loss']:.4f}  |  "
            f"pytorch loss {loss:.4f} val {val_loss:.4f}",
            flush=True,
        )
    outputs = {
        "nnscratch": np.asarray(trainer.predict(run.x_test)),
        "pytorch": twin.predict(torch.from_numpy(run.x_test)),
    }
    per_library = {library: score(values, run.y_test, run.recipe.target) for library, values in outputs.items()}
    scores = {name: {library: per_library[library][name] for library in outputs} for name in per_library["nnscratch"]}
    print("  test: " + "; ".join(f"{name} {values}" for name, values in scores.items()))
    return {
        "model": model,
        "dataset": dataset.name,
        "epochs": settings.epochs,
        "scores": scores,
        "seconds": seconds,
        "recipe": {key: getattr(settings, key) for key in ("optimizer", "lr", "schedule", "batch_size", "val_split")}
        | {"loss": run.recipe.loss, "target": run.recipe.target, "seed": settings.seed},
    }


NOTES = [
    "Each model trains with the recipe of `nnscratch reconstruct ARCH` in nnscratch and in PyTorch: the same initial "
    "weights, training/validation split, batch order, optimizer, learning-rate schedule and loss, float32.",
    "Scores on the test set after the last epoch: the MSE of the autoencoder's reconstructions against the images "
    "(pixels in [0, 1]); the pixel accuracy and IoU of the U-Net's masks (logit > 0) against the foreground masks. "
    "ratio = nnscratch / PyTorch.",
    "seconds: training plus the per-epoch validation, epochs alternating between the two libraries.",
]


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    description = "The image-to-image models' test scores in nnscratch and PyTorch, same recipe."
    return same_recipe.parse_arguments("python -m benchmarks.reconstruction", description, list(IMAGE_TO_IMAGE), argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = " ".join(["python -m benchmarks.reconstruction", *argv])
    title = "Same recipe, same reconstructions: nnscratch and PyTorch"
    return same_recipe.run_and_report(
        parse_arguments(argv), command, train_both, RECONSTRUCTION_FILE, title, reconstruction_table, NOTES
    )


if __name__ == "__main__":
    sys.exit(main())
