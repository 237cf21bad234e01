"""The ``nnscratch`` command line.

    nnscratch datasets                 what datasets are where, with checksum status
    nnscratch download NAME [--dir D]  fetch mnist / fashion-mnist / cifar10 (the only networked command)

Each subcommand is a pair of functions below: ``_add_<name>_arguments(parser)`` declares its
flags and ``_run_<name>(args)`` does the work; ``SUBCOMMANDS`` lists them. Flags shared by
the training commands are declared once (``add_data_arguments`` ...), and every value is
checked by its argparse ``type`` so that bad input is refused before any work starts.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

from . import __version__
from .common import datasets as datasets_module
from .common.datasets import DATASET_NAMES, ChecksumWarning, load_dataset

# ----------------------------------------------------------------------------- argument types


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite float >= 0."""
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite float > 0."""
    value = non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def unit_interval(text: str) -> float:
    """argparse type: a float in [0, 1) (validation fractions, dropout probabilities)."""
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def int_list(text: str) -> list[int]:
    """argparse type: comma-separated positive integers, e.g. ``256,128``."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated integers like 256,128, got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return values


def str_list(text: str) -> list[str]:
    """argparse type: comma-separated names, e.g. ``relu,tanh``."""
    return [part.strip() for part in text.split(",")]


# ----------------------------------------------------------------------------- shared flags


def add_data_arguments(parser: argparse.ArgumentParser, val_split: float = 0.1) -> None:
    """--dataset --data-dir --val-split --seed --quiet"""
    parser.add_argument("--dataset", default="fashion-mnist", choices=DATASET_NAMES, help="default: %(default)s")
    parser.add_argument("--data-dir", help="extra folder to search first (also $NNSCRATCH_DATA)")
    parser.add_argument(
        "--val-split", type=unit_interval, default=val_split, help="fraction held out for validation (%(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for weights, shuffling, dropout (%(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def add_epoch_arguments(parser: argparse.ArgumentParser, epochs: int, batch_size: int) -> None:
    """--epochs --batch-size"""
    parser.add_argument("--epochs", type=positive_int, default=epochs, help="default: %(default)s")
    parser.add_argument("--batch-size", type=positive_int, default=batch_size, help="default: %(default)s")


def add_optimizer_arguments(
    parser: argparse.ArgumentParser, choices: Sequence[str], optimizer: str, lr: float, momentum: float = 0.9
) -> None:
    """--optimizer --lr --momentum --nesterov --weight-decay"""
    parser.add_argument("--optimizer", choices=choices, default=optimizer, help="default: %(default)s")
    parser.add_argument("--lr", type=positive_float, default=lr, help="learning rate (%(default)s)")
    parser.add_argument(
        "--momentum", type=unit_interval, default=momentum, help="SGD momentum (%(default)s; 0 turns it off)"
    )
    parser.add_argument("--nesterov", action="store_true", help="Nesterov momentum for SGD")
    parser.add_argument(
        "--weight-decay", type=non_negative_float, default=0.0, help="L2 penalty added to the gradient (%(default)s)"
    )


def load_data(args: argparse.Namespace):
    """The dataset the flags ask for; a fallback to the sample or a checksum mismatch is said on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = load_dataset(args.dataset, args.data_dir)
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    return dataset


# ----------------------------------------------------------------------------- subcommands


def _add_datasets_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="extra folder to search first (also $NNSCRATCH_DATA)")


def _run_datasets(args: argparse.Namespace) -> int:
    print(f"{'dataset':<14} {'train':>7} {'test':>7}  {'image':<11} location")
    for name in DATASET_NAMES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ChecksumWarning)  # shown in the table instead
                dataset = load_dataset(name, args.data_dir, fallback_to_sample=False)
        except FileNotFoundError:
            how = f"nnscratch download {name}"
            if name == "fashion-mnist":
                how = "sudo apt-get install dataset-fashion-mnist, or " + how
            print(f"{name:<14} {'-':>7} {'-':>7}  {'-':<11} not found ({how})")
            continue
        except datasets_module.DatasetError as error:
            print(f"{name:<14} {'-':>7} {'-':>7}  {'-':<11} unreadable: {error}")
            continue
        shape = "x".join(str(s) for s in dataset.image_shape)
        print(f"{name:<14} {len(dataset.y_train):>7,} {len(dataset.y_test):>7,}  {shape:<11} {dataset.location}")
        statuses = ", ".join(f"{check.path.name} {check.status}" for check in dataset.files)
        print(f"{'':<14} sha256: {statuses}")
        for check in dataset.files:
            if check.status == "MISMATCH":
                print(f"{'':<14} {check.path}: sha256 {check.sha256}, expected {check.expected}")
    return 0


def _add_download_arguments(parser: argparse.ArgumentParser) -> None:
    from .common.download import REMOTES

    parser.add_argument("name", choices=sorted(REMOTES), help="dataset to fetch")
    parser.add_argument("--dir", help="destination root (default: the user cache, searched by every command)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _run_download(args: argparse.Namespace) -> int:
    from .common.download import DownloadError, download

    try:
        folder = download(args.name, args.dir, quiet=args.quiet)
    except DownloadError as error:
        print(f"nnscratch download: {error}", file=sys.stderr)
        return 1
    print(f"{args.name}: verified files in {folder}")
    return 0


# ----------------------------------------------------------------------------- nnscratch mlp


def _add_mlp_arguments(parser: argparse.ArgumentParser) -> None:
    from .vectorized.activations import ACTIVATIONS
    from .vectorized.optim import OPTIMIZERS
    from .vectorized.schedules import SCHEDULES

    parser.add_argument(
        "--hidden-sizes", type=int_list, default=[256, 128], help="hidden layer widths (default: 256,128)"
    )
    parser.add_argument(
        "--activations",
        type=str_list,
        default=["relu"],
        help=f"one name for every hidden layer, or one per layer; from: {', '.join(ACTIVATIONS)} (default: relu)",
    )
    parser.add_argument(
        "--dropout", type=unit_interval, default=0.1, help="dropout after each hidden layer (%(default)s)"
    )
    parser.add_argument("--batchnorm", action="store_true", help="BatchNorm1D after each hidden Linear")
    add_optimizer_arguments(parser, OPTIMIZERS, optimizer="adam", lr=1e-3)
    parser.add_argument("--schedule", choices=SCHEDULES, default="cosine", help="learning-rate schedule (%(default)s)")
    parser.add_argument(
        "--warmup-epochs", type=int, default=0, help="linear warmup epochs before the cosine (%(default)s)"
    )
    parser.add_argument("--grad-clip", type=positive_float, help="clip the gradients' joint L2 norm to this")
    parser.add_argument("--lookahead", action="store_true", help="wrap the optimizer in Lookahead (k=5, alpha=0.5)")
    add_epoch_arguments(parser, epochs=15, batch_size=64)
    parser.add_argument(
        "--early-stopping",
        type=positive_int,
        metavar="PATIENCE",
        help="stop after this many epochs without a lower val loss",
    )
    parser.add_argument("--device", choices=("cpu", "gpu", "auto"), default="cpu", help="default: %(default)s")
    add_data_arguments(parser)


def _mlp_argument_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with a combination of flags (each flag alone was checked by its argparse type)."""
    from .vectorized.activations import ACTIVATIONS

    problems = []
    if len(args.activations) not in (1, len(args.hidden_sizes)):
        problems.append(
            f"--activations: got {len(args.activations)} names for {len(args.hidden_sizes)} hidden layers; "
            "give one name, or one per hidden layer"
        )
    unknown = [name for name in args.activations if name not in ACTIVATIONS]
    if unknown:
        problems.append(f"--activations: unknown {unknown}; choose from: {', '.join(ACTIVATIONS)}")
    if args.warmup_epochs < 0:
        problems.append(f"--warmup-epochs must be >= 0, got {args.warmup_epochs}")
    elif args.warmup_epochs and args.schedule != "cosine":
        problems.append(f"--warmup-epochs needs --schedule cosine, got --schedule {args.schedule}")
    elif args.warmup_epochs >= args.epochs:
        problems.append(f"--warmup-epochs ({args.warmup_epochs}) must be smaller than --epochs ({args.epochs})")
    if args.nesterov and (args.optimizer != "sgd" or args.momentum == 0):
        problems.append("--nesterov needs --optimizer sgd and a --momentum > 0")
    if args.early_stopping and not args.val_split:
        problems.append("--early-stopping needs validation data: --val-split > 0")
    return problems


def _use_requested_device(device: str, command: str) -> bool:
    """Switch to ``device``; False (with the reason on stderr) when the GPU was asked for and is missing."""
    from .common.backend import gpu_available, use_device

    if device == "auto" and not gpu_available():
        print("note: --device auto found no usable GPU (CuPy and a CUDA device); training on the CPU", file=sys.stderr)
        device = "cpu"
    try:
        use_device(device)
    except RuntimeError as error:
        print(f"nnscratch {command}: {error}", file=sys.stderr)
        return False
    return True


def _print_epoch(entry: dict, epochs: int) -> None:
    """One line per epoch (the Trainer's callback in ``nnscratch mlp``)."""
    validation = ""
    if entry["val_loss"] is not None:
        validation = f"  val_loss {entry['val_loss']:.4f}  val_acc {entry['val_accuracy']:.2%}"
    print(
        f"epoch {entry['epoch']:>{len(str(epochs))}}/{epochs}  loss {entry['loss']:.4f}  "
        f"acc {entry['accuracy']:.2%}{validation}  lr {entry['lr']:.2e}  {entry['seconds']:.1f}s  "
        f"{entry['samples_per_s']:,.0f} samples/s",
        flush=True,
    )


def _run_mlp(args: argparse.Namespace) -> int:
    problems = _mlp_argument_problems(args)
    if problems:
        for problem in problems:
            print(f"nnscratch mlp: error: {problem}", file=sys.stderr)
        return 2
    if not _use_requested_device(args.device, "mlp"):
        return 1
    from .common.backend import current_device
    from .common.seed import manual_seed
    from .vectorized.mlp import build_mlp
    from .vectorized.optim import make_optimizer
    from .vectorized.schedules import make_schedule
    from .vectorized.trainer import NonFiniteLossError, Trainer

    dataset = load_data(args)
    x_train = dataset.normalize(dataset.x_train).reshape(len(dataset.x_train), -1)
    x_test = dataset.normalize(dataset.x_test).reshape(len(dataset.x_test), -1)
    manual_seed(args.seed)
    model = build_mlp(
        x_train.shape[1], args.hidden_sizes, dataset.num_classes, args.activations, args.dropout, args.batchnorm
    )
    optimizer = make_optimizer(
        args.optimizer, model.parameters(), args.lr, args.momentum, args.nesterov, args.weight_decay, args.lookahead
    )
    schedule = make_schedule(args.schedule, optimizer, args.epochs, args.warmup_epochs)
    trainer = Trainer(
        model,
        optimizer,
        schedule=schedule,
        grad_clip=args.grad_clip,
        callbacks=[lambda _, entry: _print_epoch(entry, args.epochs)],
        quiet=args.quiet,
        seed=args.seed,
    )
    sizes = "-".join(str(size) for size in [x_train.shape[1], *args.hidden_sizes, dataset.num_classes])
    num_parameters = sum(parameter.data.size for parameter in model.parameters())
    print(
        f"MLP {sizes} ({','.join(args.activations)}), {num_parameters:,} parameters; {args.optimizer} lr {args.lr:g}, "
        f"{args.schedule} schedule; {dataset.name}: {len(x_train):,} train ({args.val_split:.0%} held out "
        f"for validation), {len(x_test):,} test; device {current_device()}"
    )
    try:
        history = trainer.fit(
            x_train,
            dataset.y_train,
            args.epochs,
            args.batch_size,
            val_split=args.val_split,
            early_stopping=args.early_stopping,
        )
    except NonFiniteLossError as error:
        print(f"nnscratch mlp: {error}", file=sys.stderr)
        return 1
    test_loss, test_accuracy = trainer.evaluate(x_test, dataset.y_test)
    seconds = sum(entry["seconds"] for entry in history)
    # every epoch trains on the same samples, so the overall rate is the harmonic mean of the epochs' rates
    samples_per_s = len(history) / sum(1.0 / entry["samples_per_s"] for entry in history)
    stopped = f", stopped early; weights of epoch {trainer.best_epoch}" if trainer.stopped_early else ""
    print(
        f"test accuracy {test_accuracy:.2%} (loss {test_loss:.4f}) after {len(history)} epoch(s){stopped}: "
        f"{seconds:.1f}s, {samples_per_s:,.0f} training samples/s"
    )
    return 0


# ----------------------------------------------------------------------------- nnscratch scalar


def _add_scalar_arguments(parser: argparse.ArgumentParser) -> None:
    from .scalar.activations import ACTIVATIONS

    parser.add_argument(
        "--hidden-sizes",
        type=int_list,
        help="hidden layer widths, e.g. 32,16 (default: 32; 3 with --trace)",
    )
    parser.add_argument(
        "--activations",
        type=str_list,
        default=["relu"],
        help=f"one name for every hidden layer, or one per layer; from: {', '.join(ACTIVATIONS)} (default: relu)",
    )
    parser.add_argument(
        "--dropout", type=unit_interval, default=0.0, help="dropout after each hidden layer (%(default)s)"
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


def _run_scalar(args: argparse.Namespace) -> int:
    from .scalar import SGD, Adam, Network, Trainer
    from .scalar.network import layer_plan
    from .scalar.trace import trace_toy_network

    hidden_sizes = args.hidden_sizes or ([3] if args.trace else [32])
    problems = []
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

    dataset = load_data(args)
    x_train, y_train = dataset.x_train[: args.limit_train], dataset.y_train[: args.limit_train]
    input_size = len(dataset.x_train[0].reshape(-1))
    network = Network(input_size, hidden_sizes, dataset.num_classes, args.activations, args.dropout, args.seed)
    if args.optimizer == "sgd":
        optimizer = SGD(
            network.parameters(),
            lr=args.lr,
            momentum=args.momentum,
            weight_decay=args.weight_decay,
            nesterov=args.nesterov,
        )
    else:
        optimizer = Adam(network.parameters(), args.lr, weight_decay=args.weight_decay)
    trainer = Trainer(
        network,
        optimizer,
        callbacks=[lambda _, entry: _print_epoch(entry, args.epochs)],
        quiet=args.quiet,
        seed=args.seed,
    )
    print(
        f"scalar network {network.architecture} ({','.join(args.activations)}), "
        f"{len(network.parameters()):,} parameters; {args.optimizer} lr {args.lr:g}; {dataset.name}: "
        f"{len(x_train):,} train images ({args.val_split:.0%} held out for validation), {len(dataset.x_test):,} test"
    )
    history = trainer.fit(dataset.normalize(x_train), y_train, args.epochs, args.batch_size, args.val_split)
    test_loss, test_accuracy = trainer.evaluate(dataset.normalize(dataset.x_test), dataset.y_test)
    seconds = sum(entry["seconds"] for entry in history)
    samples_per_s = len(history) / sum(1.0 / entry["samples_per_s"] for entry in history)
    print(
        f"test accuracy {test_accuracy:.2%} (loss {test_loss:.4f}) after {len(history)} epochs: "
        f"{seconds:.1f}s, {samples_per_s:,.0f} training samples/s"
    )
    return 0


SUBCOMMANDS = {
    "datasets": (_add_datasets_arguments, _run_datasets, "list datasets, where they are, checksum status"),
    "download": (_add_download_arguments, _run_download, "download a dataset (the only networked command)"),
    "mlp": (_add_mlp_arguments, _run_mlp, "train the vectorized MLP (tier 2) and report its test accuracy"),
    "scalar": (_add_scalar_arguments, _run_scalar, "train the scalar network (tier 1), or --trace one sample"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nnscratch", description="Neural networks from scratch: scalar, vectorized and convolutional tiers."
    )
    parser.add_argument("--version", action="version", version=f"nnscratch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (add_arguments, run, summary) in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=summary, description=summary)
        add_arguments(sub)
        sub.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
