"""``nnscratch summary ARCH``: every layer of an architecture with shapes, parameters, FLOPs, route and memory.

ARCH is a classifier of the gallery (``ARCHITECTURES``) or an image-to-image model
(``IMAGE_TO_IMAGE``); the memory of a training step follows the recipe of the command that
trains it (``nnscratch train`` or ``nnscratch reconstruct``)."""

from __future__ import annotations

import argparse
import contextlib
import sys

from .arguments import (
    DATASET_HELP,
    add_architecture_argument,
    add_conv_algorithm_argument,
    add_dataset_argument,
    add_option_argument,
    default_help,
    positive_int,
    unit_interval,
)
from .train import build_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..convolutional.architectures import ARCHITECTURES, IMAGE_TO_IMAGE
    from ..vectorized.optim import OPTIMIZERS

    add_architecture_argument(parser, [*ARCHITECTURES, *IMAGE_TO_IMAGE])
    add_dataset_argument(parser, "fashion-mnist", f"sets the input shape (and a classifier's classes): {DATASET_HELP}")
    add_option_argument(parser, "an architecture build option, as for `nnscratch train`; repeatable")
    add_conv_algorithm_argument(parser)
    memory = parser.add_argument_group("memory of one training step (as `nnscratch train` or `reconstruct` runs it)")
    memory.add_argument("--batch-size", type=positive_int, help=default_help(None))
    memory.add_argument("--optimizer", choices=OPTIMIZERS, help=default_help(None, "its state is counted"))
    memory.add_argument("--momentum", type=unit_interval, help=default_help(None, "SGD momentum; 0: no buffer"))
    memory.add_argument("--lookahead", action="store_true", help="count Lookahead's slow weights too")
    memory.add_argument("--dtype", default="float32", choices=("float32", "float64"), help=default_help("float32"))


def run(args: argparse.Namespace) -> int:
    from ..convolutional.algorithms import use_algorithm
    from ..convolutional.summary import format_summary, summarize

    try:
        model = build_model(args).to(args.dtype)
        with use_algorithm(args.conv_algorithm):
            memory, setting = measure_memory(args, model)
            rows = summarize(model, model.input_shape, memory)
    except ValueError as error:
        print(f"nnscratch summary: error: {error}", file=sys.stderr)
        return 2
    c, h, w = model.input_shape
    total = sum(int(parameter.data.size) for parameter in model.parameters())
    print(format_summary(f"{args.architecture} on {c}x{h}x{w} images, training with {setting}", rows, total, memory))
    return 0


def measure_memory(args: argparse.Namespace, model):
    """(the memory of one training step as the flags and the recipe set it, the optimizer in words),
    or a MemoryError naming --batch-size when that step does not fit in the memory available."""
    from ..common.memory import allocation_limit, available_memory
    from ..convolutional.recipes import recipe_of
    from ..vectorized.optim import make_optimizer
    from ..vectorized.training_memory import measure_training_memory

    recipe = recipe_of(args.architecture)
    batch_size = args.batch_size or recipe.batch_size
    optimizer = args.optimizer or recipe.optimizer
    momentum = recipe.momentum if args.momentum is None else args.momentum
    setting = optimizer + (f" (momentum {momentum:g})" if optimizer == "sgd" else "")
    setting += " + lookahead" if args.lookahead else ""
    available = available_memory()
    try:
        # the step is run with a uniform gradient at the output, not a loss: the layers hold the same
        # whatever the loss, so one measurement serves classifiers and image-to-image models alike
        with allocation_limit(available) if available else contextlib.nullcontext():
            memory = measure_training_memory(
                model,
                model.input_shape,
                batch_size,
                lambda parameters: make_optimizer(optimizer, parameters, 0.1, momentum, lookahead=args.lookahead),
            )
    except MemoryError:
        # measured by running the step, so a batch too large for this machine is refused, not estimated
        room = f"the {available / 2**30:,.1f} GiB available" if available else "the memory available"
        raise MemoryError(
            f"--batch-size {batch_size}: one training step of {args.architecture} does not fit in {room}, "
            "so it cannot be measured; try a smaller batch"
        ) from None
    return memory, setting
