"""Same recipe, same accuracy? nnscratch and PyTorch trained alike: ``python -m benchmarks.accuracy``.

    python -m benchmarks.accuracy                           # mlp, lenet, baseline: full recipes (hours on 2 cores)
    python -m benchmarks.accuracy --models lenet --epochs 3
    python -m benchmarks.accuracy --quick                   # smoke run: the bundled sample, 1 epoch

Each model trains with the recipe its command uses when no flag is given: ``nnscratch mlp``
(Adam, cosine schedule, dropout 0.1, 15 epochs) and ``nnscratch train lenet|baseline`` (the
recipes of ``nnscratch/convolutional/recipes.py``: SGD with Nesterov momentum, weight decay,
multistep drops, random shifts for the baseline), on full Fashion-MNIST. Both libraries get:

- the same initial weights (the PyTorch twin copies nnscratch's, ``benchmarks/torch_side.py``);
- the same training/validation split (``train_val_split``: stratified, seeded, as ``fit``
  makes it from ``--val-split``);
- the same batches and the same shifts, from generators seeded and drawn alike;
- the same optimizer settings and learning-rate schedule (torch.optim and its lr_scheduler);
- float32 and the same thread count.

Only the dropout masks differ (and float32 rounding). The test set is evaluated once, after
the last epoch. Epochs alternate between the libraries (nnscratch's first, PyTorch's first,
nnscratch's second, ...), so that their times compare too. The report (``accuracy.json`` and
``accuracy.md``) gives both test accuracies, their difference and each side's seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import torch

from benchmarks import same_recipe
from benchmarks.torch_side import torch_setup
from benchmarks.workloads import build_setup, cli_settings, model_inputs
from nnscratch.common.datasets import Dataset, train_val_split
from scripts.docsgen.reports import ACCURACY_FILE, accuracy_table

MODELS = ("mlp", "lenet", "baseline")
RECIPE_KEYS = ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "schedule", "warmup_epochs")
RECIPE_KEYS += ("batch_size", "val_split", "seed")


def epoch_line(library: str, loss: float, accuracy: float, val_accuracy: float | None, lr: float) -> str:
    validation = "" if val_accuracy is None else f" val_acc {val_accuracy:.2%}"
    return f"{library} loss {loss:.4f} acc {accuracy:.2%}{validation} lr {lr:.2e}"


def train_both(model: str, dataset: Dataset, epochs: int | None, pause: float) -> dict[str, Any]:
    """Train ``model``'s recipe in both libraries, epochs alternating; one result of the report."""
    settings = cli_settings(model, dataset.name)
    if epochs is not None:
        settings.epochs = epochs
    ours = build_setup(model, settings, dataset)
    theirs = torch_setup(ours)
    x, y = model_inputs(model, dataset, dataset.x_train), dataset.y_train
    validation = None
    if settings.val_split:
        # the split Trainer.fit(val_split=...) makes: the same function with the trainer's seed
        x, y, x_val, y_val = train_val_split(x, y, settings.val_split, settings.seed)
        validation = (x_val, y_val)
    x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)
    validation_torch = None if validation is None else tuple(torch.from_numpy(part) for part in validation)
    seconds = {"nnscratch": 0.0, "pytorch": 0.0}
    val_accuracy: dict[str, float] = {}
    print(f"{model}: {settings.epochs} epochs of {len(x):,} images, augmentation {ours.augmentation.describe()}")
    for epoch in range(1, settings.epochs + 1):
        time.sleep(pause)  # see benchmarks/timing.py: the other library's threads stop spinning
        # fit trains up to epoch `epoch`: one more epoch of the same run, schedule included
        (entry,) = ours.trainer.fit(x, y, epoch, settings.batch_size, validation=validation)
        seconds["nnscratch"] += entry["seconds"]
        if validation is not None:
            val_accuracy["nnscratch"] = entry["val_accuracy"]
        time.sleep(pause)
        start, lr = time.perf_counter(), theirs.optimizer.param_groups[0]["lr"]
        loss, accuracy = theirs.train_epoch(x_torch, y_torch)
        if validation_torch is not None:
            val_accuracy["pytorch"] = theirs.accuracy(*validation_torch)
        if theirs.schedule is not None:
            theirs.schedule.step()
        seconds["pytorch"] += time.perf_counter() - start
        print(
            f"  epoch {epoch}/{settings.epochs}  "
            + epoch_line("nnscratch", entry["loss"], entry["accuracy"], entry["val_accuracy"], entry["lr"])
            + "  |  "
            + epoch_line("pytorch", loss, accuracy, val_accuracy.get("pytorch"), lr),
            flush=True,
        )
    x_test = model_inputs(model, dataset, dataset.x_test)
    test_accuracy = {
        "nnscratch": ours.trainer.evaluate(x_test, dataset.y_test)[1],
        "pytorch": theirs.accuracy(torch.from_numpy(x_test), torch.from_numpy(dataset.y_test)),
    }
    print(f"  test accuracy: nnscratch {test_accuracy['nnscratch']:.2%}, pytorch {test_accuracy['pytorch']:.2%}")
    recipe = {key: getattr(settings, key) for key in RECIPE_KEYS}
    return {
        "model": model,
        "dataset": dataset.name,
        "epochs": settings.epochs,
        "test_accuracy": test_accuracy,
        "seconds": seconds,
        "final_val_accuracy": val_accuracy,
        "recipe": {**recipe, "augmentation": ours.augmentation.describe()},
    }


NOTES = [
    "Each model trains with its command's default recipe (`nnscratch mlp`, `nnscratch train ARCH`), in nnscratch "
    "and in PyTorch: the same initial weights, training/validation split, batch order, random shifts, optimizer "
    "settings and learning-rate schedule, float32; only the dropout masks differ.",
    "The test set is evaluated once, after the last epoch; difference = nnscratch - PyTorch in percentage points.",
    "seconds: training plus the per-epoch validation, epochs alternating between the two libraries.",
]


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    description = "Test accuracy of the same recipe in nnscratch and PyTorch. Writes accuracy.json and accuracy.md."
    return same_recipe.parse_arguments("python -m benchmarks.accuracy", description, MODELS, argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = " ".join(["python -m benchmarks.accuracy", *argv])
    title = "Same recipe, same accuracy: nnscratch and PyTorch"
    return same_recipe.run_and_report(
        parse_arguments(argv), command, train_both, ACCURACY_FILE, title, accuracy_table, NOTES
    )


if __name__ == "__main__":
    sys.exit(main())
