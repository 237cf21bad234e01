"""``nnscratch scalar``: train the scalar network (tier 1), or ``--trace`` one sample through it."""

from __future__ import annotations

import argparse
import sys

from . import arguments, output
from .arguments import (
    add_data_arguments,
    add_epoch_arguments,
    add_layer_arguments,
    add_optimizer_arguments,
    positive_int,
)
from .checkpoints import add_checkpoint_arguments, checkpoint_problems, fit_with_checkpoints, resume_run


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..scalar.activations import ACTIVATIONS

    # no fixed default: _run_scalar picks 32, or 3 for --trace's toy network
    add_layer_arguments(
        parser,
        ACTIVATIONS,
        hidden_sizes=None,
        dropout=0.0,
        hidden_sizes_help="hidden layer widths, e.g. 32,16 (default: 32; 3 with --trace)",
    )
    add_optimizer_arguments(parser, ("sgd", "adam"), optimizer="sgd", lr=0.01)
    add_epoch_arguments(parser, epochs=3, batch_size=32)
    parser.add_argument(
        "--limit-train",
        type=positive_int,
        default=20_000,
        metavar="N",
        help="use the first N training images, validation included: pure Python is slow (%(default)s)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="print every value and gradient of one toy sample through a 4-3-2 network (hidden sizes, "
        "activations, dropout and seed can be changed) instead of training",
    )
    add_data_arguments(parser)
    add_checkpoint_arguments(parser)


def _scalar_record(args: argparse.Namespace, hidden_sizes: list[int]) -> dict:
    """The metadata of an ``nnscratch scalar`` checkpoint that the flags determine (see ``_mlp_record``)."""
    training = ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "batch_size", "val_split", "seed")
    return {
        "architecture": {
            "name": "scalar_mlp",
            "hidden_sizes": hidden_sizes,
            "activations": args.activations,
            "dropout": args.dropout,
        },
        "training": {name: getattr(args, name) for name in (*training, "limit_train")},
    }


def scalar_optimizer(args: argparse.Namespace, parameters: list):
    """The scalar tier's SGD or Adam, as `nnscratch scalar`'s flags ask for it, over ``parameters``."""
    from ..scalar import SGD, Adam

    if args.optimizer == "sgd":
        return SGD(
            parameters, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay, nesterov=args.nesterov
        )
    return Adam(parameters, args.lr, weight_decay=args.weight_decay)


def run(args: argparse.Namespace) -> int:
    from ..common.checkpoint import CheckpointError, load_checkpoint
    from ..scalar import Network, Trainer
    from ..scalar.network import layer_plan
    from ..scalar.trace import trace_toy_network

    hidden_sizes = args.hidden_sizes or ([3] if args.trace else [32])
    problems = checkpoint_problems(args)
    try:
        layer_plan(hidden_sizes, args.activations, args.dropout)
    except ValueError as error:
        problems.append(str(error))
    if args.nesterov and (args.optimizer != "sgd" or args.momentum == 0):
        problems.append("--nesterov needs --optimizer sgd and a --momentum > 0")
    if problems:
        for problem in problems:
            print(f"nnscratch scalar: error: {problem}", file=sys.stderr)
        return 2
    if args.trace:
        print(trace_toy_network(hidden_sizes, args.activations, args.dropout, args.seed), end="")
        return 0
    record = _scalar_record(args, hidden_sizes)
    try:
        resumed = load_checkpoint(args.resume, expected=record) if args.resume else None
    except CheckpointError as error:
        print(f"nnscratch scalar: error: {error}", file=sys.stderr)
        return 2

    dataset = arguments.load_data(args)
    x_train, y_train = dataset.x_train[: args.limit_train], dataset.y_train[: args.limit_train]
    input_size = len(dataset.x_train[0].reshape(-1))
    network = Network(input_size, hidden_sizes, dataset.num_classes, args.activations, args.dropout, args.seed)
    optimizer = scalar_optimizer(args, network.parameters())
    trainer = Trainer(
        network,
        optimizer,
        callbacks=[lambda _, entry: output.print_epoch(entry, args.epochs)],
        quiet=args.quiet,
        seed=args.seed,
    )
    record["architecture"].update(input_size=input_size, num_classes=dataset.num_classes)
    if not resume_run(resumed, record, dataset, (network, optimizer, None, trainer), args, "scalar"):
        return 2
    print(
        f"scalar network {network.architecture} ({','.join(args.activations)}), "
        f"{len(network.parameters()):,} parameters; {args.optimizer} lr {args.lr:g}; {dataset.name}: "
        f"{len(x_train):,} train images ({args.val_split:.0%} held out for validation), {len(dataset.x_test):,} test"
    )

    def fit() -> list:
        return trainer.fit(dataset.normalize(x_train), y_train, args.epochs, args.batch_size, args.val_split)

    code = fit_with_checkpoints(trainer, fit, args, {**record, "epochs": args.epochs}, "scalar")
    if code is not None:
        return code
    history = trainer.history  # the whole run's, resumed epochs included
    test_loss, test_accuracy = trainer.evaluate(dataset.normalize(dataset.x_test), dataset.y_test)
    seconds = sum(entry["seconds"] for entry in history)
    samples_per_s = len(history) / sum(1.0 / entry["samples_per_s"] for entry in history)
    print(
        f"test accuracy {test_accuracy:.2%} (loss {test_loss:.4f}) after {len(history)} epochs: "
        f"{seconds:.1f}s, {samples_per_s:,.0f} training samples/s"
    )
    return 0
