"""``nnscratch scalar``: train the scalar network (tier 1), or ``--trace`` one sample through it."""

from __future__ import annotations

import argparse
import math

from .arguments import (
    add_data_arguments,
    add_epoch_arguments,
    add_layer_arguments,
    add_optimizer_arguments,
    add_output_arguments,
    positive_int,
    training_problems,
)
from .checkpoints import add_checkpoint_arguments
from .errors import fail
from .output import plural
from .runner import TrainingRun, layer_sizes_parameters


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
    add_output_arguments(parser, tensorboard=False)
    add_data_arguments(parser)
    add_checkpoint_arguments(parser)


def scalar_optimizer(args: argparse.Namespace, parameters: list):
    """The scalar tier's SGD or Adam, as `nnscratch scalar`'s flags ask for it, over ``parameters``."""
    from ..scalar import SGD, Adam

    if args.optimizer == "sgd":
        return SGD(
            parameters, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay, nesterov=args.nesterov
        )
    return Adam(parameters, args.lr, weight_decay=args.weight_decay)


class ScalarRun(TrainingRun):
    """``nnscratch scalar``: the scalar network (tier 1), in pure Python on the CPU."""

    command = "scalar"
    data_parallel = False  # pure Python, one sample at a time: nothing to share out
    title = "scalar network"
    # a scalar parameter is a Python object with its value, gradient and the optimizer's floats
    # (about 330 bytes measured for the object alone, with tracemalloc)
    bytes_per_parameter = 512

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        self.hidden_sizes = args.hidden_sizes or [32]

    def problems(self) -> list[str]:
        from ..scalar.network import layer_plan

        layer_plan(self.hidden_sizes, self.args.activations, self.args.dropout)  # a ValueError names the flag
        return []

    def num_parameters_planned(self) -> int:
        from ..common.datasets import IMAGE_SHAPES

        return layer_sizes_parameters([math.prod(IMAGE_SHAPES[self.args.dataset]), *self.hidden_sizes, 10])

    def use_device(self) -> bool:
        return True  # plain Python floats: there is no device to choose

    @property
    def train_limit(self) -> int:
        return self.args.limit_train

    def record(self) -> dict:
        """What the flags determine of the checkpoint's metadata (see ``MLPRun.record``)."""
        args = self.args
        training = ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "batch_size", "val_split", "seed")
        return {
            "architecture": {
                "name": "scalar_mlp",
                "hidden_sizes": self.hidden_sizes,
                "activations": args.activations,
                "dropout": args.dropout,
            },
            "training": {name: getattr(args, name) for name in (*training, "limit_train")},
        }

    def build(self, dataset, record: dict) -> None:
        from ..scalar import Network, Trainer

        args = self.args
        self.x_train = dataset.normalize(dataset.x_train[: args.limit_train])
        self.y_train = dataset.y_train[: args.limit_train]
        self.x_test = dataset.normalize(dataset.x_test)
        input_size = len(dataset.x_train[0].reshape(-1))
        self.model = Network(
            input_size, self.hidden_sizes, dataset.num_classes, args.activations, args.dropout, args.seed
        )
        self.optimizer = scalar_optimizer(args, self.model.parameters())
        self.trainer = Trainer(
            self.model,
            self.optimizer,
            callbacks=[self.print_epoch],
            quiet=args.quiet,
            seed=args.seed,
        )
        record["architecture"].update(input_size=input_size, num_classes=dataset.num_classes)

    def describe(self, dataset) -> str:
        args = self.args
        return (
            f"scalar network {self.model.architecture} ({','.join(args.activations)}), "
            f"{len(self.model.parameters()):,} parameters; {args.optimizer} lr {args.lr:g}; {dataset.name}: "
            f"{len(self.x_train):,} train images ({args.val_split:.0%} held out for validation), "
            f"{len(self.x_test):,} test"
        )

    def fit(self) -> None:
        self.trainer.fit(self.x_train, self.y_train, self.args.epochs, self.args.batch_size, self.args.val_split)

    def report(self, dataset) -> None:
        history = self.trainer.history  # the whole run's, resumed epochs included
        test_loss, test_accuracy = self.trainer.evaluate(self.x_test, dataset.y_test)
        seconds = sum(entry["seconds"] for entry in history)
        samples_per_s = len(history) / sum(1.0 / entry["samples_per_s"] for entry in history)
        print(
            f"test accuracy {test_accuracy:.2%} (loss {test_loss:.4f}) after {plural(len(history), 'epoch')}: "
            f"{seconds:.1f}s, {samples_per_s:,.0f} training samples/s"
        )
        if self.args.report:
            self.write_outputs(dataset, self.trainer.predict(self.x_test))


def run(args: argparse.Namespace) -> int:
    if args.trace:
        from ..scalar.network import layer_plan
        from ..scalar.trace import trace_toy_network

        hidden_sizes = args.hidden_sizes or [3]
        layer_plan(hidden_sizes, args.activations, args.dropout)  # a ValueError names the flag
        problems = training_problems(args)  # the same flags as training: refused the same way
        if problems:
            return fail("scalar", problems[0])
        print(trace_toy_network(hidden_sizes, args.activations, args.dropout, args.seed), end="")
        return 0
    return ScalarRun(args).run()
