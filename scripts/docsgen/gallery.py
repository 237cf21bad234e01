"""The architecture gallery's numbers, computed from the models themselves.

Parameters, FLOPs and the layer table come from ``nnscratch.convolutional.summary`` (what
``nnscratch summary ARCH`` prints), the default training flags from
``nnscratch.convolutional.recipes``, and measured accuracy and speed from the benchmark
reports (``reports.py``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from nnscratch.common.seed import manual_seed
from nnscratch.convolutional.architectures import ARCHITECTURES, IMAGE_TO_IMAGE, build, build_image_to_image, options_of
from nnscratch.convolutional.recipes import IMAGE_RECIPES, RECIPES, recipe_of
from nnscratch.convolutional.summary import LayerRow, summarize

from . import REPORTS_DIR
from .markdown import collapsible, table
from .reports import model_measurements, overview_numbers, reconstruction_section

# layer tables up to this length are shown opened, longer ones folded
OPEN_LAYER_TABLES = 25
# (in_channels, image_size) of the two input shapes every architecture supports
INPUTS = {"1x28x28 (Fashion-MNIST, MNIST)": (1, 28), "3x32x32 (CIFAR-10)": (3, 32)}


@cache
def model_summary(name: str, in_channels: int = 1, image_size: int = 28) -> tuple[int, list[LayerRow]]:
    """(number of parameters, summary rows) of architecture ``name`` with its default options."""
    manual_seed(0)  # the weights do not change any number here; the seed only keeps the build quiet and repeatable
    builder = build_image_to_image if name in IMAGE_TO_IMAGE else build
    model = builder(name, in_channels=in_channels, image_size=image_size)
    parameters = sum(int(parameter.data.size) for parameter in model.parameters())
    return parameters, summarize(model, model.input_shape)


def totals(name: str, in_channels: int = 1, image_size: int = 28) -> tuple[int, int]:
    """(parameters, forward FLOPs per image)."""
    parameters, rows = model_summary(name, in_channels, image_size)
    return parameters, sum(row.flops for row in rows)


def recipe_row(name: str) -> tuple:
    recipe = recipe_of(name)
    optimizer = recipe.optimizer + (" (Nesterov)" if recipe.nesterov else "")
    schedule = recipe.schedule + (f", {recipe.warmup_epochs} warmup epochs" if recipe.warmup_epochs else "")
    momentum = f"{recipe.momentum:g}" if recipe.optimizer == "sgd" else "—"
    weight_decay = f"{recipe.weight_decay:g}"
    # None: the dataset's default augmentation (getattr: recipes that predate the field have none)
    shift = getattr(recipe, "augment_shift", None)
    augmentation = "dataset default" if shift is None else (f"shift {shift}px" if shift else "none")
    return (
        f"`{name}`",
        recipe.epochs,
        recipe.batch_size,
        optimizer,
        f"{recipe.lr:g}",
        momentum,
        weight_decay,
        schedule,
        augmentation,
    )


RECIPE_HEADERS = ["architecture", "epochs", "batch", "optimizer", "lr", "momentum", "weight decay", "schedule"]
RECIPE_HEADERS.append("augmentation")


def recipes_table() -> str:
    """The default flags of ``nnscratch train ARCH``, one row per architecture."""
    return table(RECIPE_HEADERS, [recipe_row(name) for name in RECIPES], "lrrlrrrll")


def recipe_table(name: str) -> str:
    """One architecture's recipe, one setting per row (an image-to-image model's also names its loss
    and target, and has no augmentation)."""
    settings = list(zip(RECIPE_HEADERS, recipe_row(name), strict=True))[1:]
    if name in IMAGE_RECIPES:
        recipe = IMAGE_RECIPES[name]
        settings = [*settings[:-1], ("loss", f"`{recipe.loss}`"), ("target", recipe.target)]
    return table(["setting", "default"], settings, "ll")


def overview(reports_dir: Path = REPORTS_DIR) -> str:
    """One row per architecture: size, cost, and what the reports measured."""
    rows = []
    for name in ARCHITECTURES:
        parameters, flops = totals(name)
        accuracy, speed = overview_numbers(name, reports_dir)
        rows.append((f"[`{name}`]({name}.md)", f"{parameters:,}", f"{flops / 1e6:,.1f}", accuracy, speed))
    headers = ["model", "parameters", "MFLOPs per 28x28 image", "test accuracy", "training samples/s"]
    return table(headers, rows, "lrrrr")


def layer_table(rows: list[LayerRow]) -> str:
    """Every layer of a model on 28x28 images, with the route each convolution takes (``algorithm="auto"``)."""
    body = [
        (f"`{row.name}`", row.kind, "x".join(str(size) for size in row.output_shape), f"{row.parameters:,}")
        + (f"{row.flops:,}", f"`{row.algorithm}`" if row.algorithm else "")
        for row in rows
    ]
    return table(["layer", "type", "output shape", "parameters", "FLOPs", "algorithm"], body, "lllrrl")


def model_section(name: str, reports_dir: Path = REPORTS_DIR) -> str:
    """Everything measured about one architecture: sizes, recipe, accuracy, speed and every layer."""
    size_rows = []
    for label, (in_channels, image_size) in INPUTS.items():
        parameters, flops = totals(name, in_channels, image_size)
        size_rows.append((label, f"{parameters:,}", f"{flops / 1e6:,.1f}"))
    _, rows = model_summary(name)
    options = [(f"`{option}`", f"`{default}`") for option, default in options_of(name).items()]
    image_to_image = name in IMAGE_TO_IMAGE
    command = f"nnscratch {'reconstruct' if image_to_image else 'train'} {name}"
    measured = reconstruction_section(reports_dir, [name]) if image_to_image else model_measurements(name, reports_dir)
    return "\n\n".join(
        [
            "### Size and cost",
            table(["input", "parameters", "MFLOPs per image (forward)"], size_rows, "lrr"),
            "### Build options (`--option KEY=VALUE`)",
            table(["option", "default"], options),
            f"### Default recipe (`{command}` without flags)",
            recipe_table(name),
            "### Measured",
            measured,
            "### Every layer",
            f"The table `nnscratch summary {name}` prints, for one 1x28x28 image (FLOPs count a multiply-add as 2).",
            collapsible(f"All {len(rows)} layers of {name}", layer_table(rows), opened=len(rows) <= OPEN_LAYER_TABLES),
        ]
    )
