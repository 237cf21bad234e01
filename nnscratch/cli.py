"""The ``nnscratch`` command line.

    nnscratch datasets                 what datasets are where, with checksum status
    nnscratch download NAME [--dir D]  fetch mnist / fashion-mnist / cifar10 (the only networked command)
    nnscratch evaluate PATH            a saved model's test accuracy, per class, confusion matrix

Training commands take ``--save PATH [--save-every N]`` and ``--resume PATH`` (with the same
flags; ``--epochs`` is the length of the whole run). Ctrl-C saves the last complete epoch and
prints the command that resumes it (``fit_with_checkpoints``).

Each subcommand is a pair of functions below: ``_add_<name>_arguments(parser)`` declares its
flags and ``_run_<name>(args)`` does the work; ``SUBCOMMANDS`` lists them. Flags shared by
the training commands are declared once (``add_data_arguments`` ...), and every value is
checked by its argparse ``type`` so that bad input is refused before any work starts.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

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


def _default_help(default: object, text: str = "") -> str:
    """Help text ending in the default, or in "per architecture" for the recipe-filled flags of train."""
    shown = "the architecture's recipe" if default is None else "%(default)s"
    return f"{text} (default: {shown})" if text else f"default: {shown}"


def add_epoch_arguments(parser: argparse.ArgumentParser, epochs: int | None, batch_size: int | None) -> None:
    """--epochs --batch-size (None: filled in later, from a recipe)"""
    parser.add_argument("--epochs", type=positive_int, default=epochs, help=_default_help(epochs))
    parser.add_argument("--batch-size", type=positive_int, default=batch_size, help=_default_help(batch_size))


def add_optimizer_arguments(
    parser: argparse.ArgumentParser,
    choices: Sequence[str],
    optimizer: str | None,
    lr: float | None,
    momentum: float | None = 0.9,
    weight_decay: float | None = 0.0,
) -> None:
    """--optimizer --lr --momentum --nesterov --weight-decay (None defaults: filled in later, from a recipe)"""
    parser.add_argument("--optimizer", choices=choices, default=optimizer, help=_default_help(optimizer))
    parser.add_argument("--lr", type=positive_float, default=lr, help=_default_help(lr, "learning rate"))
    parser.add_argument(
        "--momentum", type=unit_interval, default=momentum, help=_default_help(momentum, "SGD momentum; 0 turns it off")
    )
    parser.add_argument("--nesterov", action="store_true", help="Nesterov momentum for SGD")
    parser.add_argument(
        "--weight-decay",
        type=non_negative_float,
        default=weight_decay,
        help=_default_help(weight_decay, "L2 penalty (SGD, Adam: added to the gradient; AdamW: decoupled)"),
    )


def add_layer_arguments(
    parser: argparse.ArgumentParser,
    activations: Sequence[str],
    hidden_sizes: list[int] | None,
    dropout: float,
    hidden_sizes_help: str | None = None,
) -> None:
    """--hidden-sizes --activations --dropout: the shape of an MLP.

    activations: the names the command's tier offers (listed in the help). hidden_sizes_help
    replaces the default help, e.g. when the default depends on other flags (hidden_sizes None).
    """
    if hidden_sizes_help is None:
        hidden_sizes_help = f"hidden layer widths (default: {','.join(str(size) for size in hidden_sizes)})"
    parser.add_argument("--hidden-sizes", type=int_list, default=hidden_sizes, help=hidden_sizes_help)
    parser.add_argument(
        "--activations",
        type=str_list,
        default=["relu"],
        help=f"one name for every hidden layer, or one per layer; from: {', '.join(activations)} (default: relu)",
    )
    parser.add_argument(
        "--dropout", type=unit_interval, default=dropout, help="dropout after each hidden layer (%(default)s)"
    )


def add_schedule_arguments(
    parser: argparse.ArgumentParser, schedule: str | None, schedule_help: str, warmup_epochs: int | None = 0
) -> None:
    """--schedule --warmup-epochs --grad-clip --lookahead --early-stopping --device"""
    from .vectorized.schedules import SCHEDULES

    parser.add_argument("--schedule", choices=SCHEDULES, default=schedule, help=schedule_help)
    parser.add_argument(
        "--warmup-epochs",
        type=int,
        default=warmup_epochs,
        help=_default_help(warmup_epochs, "linear warmup epochs before the cosine"),
    )
    parser.add_argument("--grad-clip", type=positive_float, help="clip the gradients' joint L2 norm to this")
    parser.add_argument("--lookahead", action="store_true", help="wrap the optimizer in Lookahead (k=5, alpha=0.5)")
    parser.add_argument(
        "--early-stopping",
        type=positive_int,
        metavar="PATIENCE",
        help="stop after this many epochs without a lower val loss, keeping the best weights",
    )
    parser.add_argument("--device", choices=("cpu", "gpu", "auto"), default="cpu", help="default: %(default)s")


def training_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with a combination of optimizer/schedule flags (each alone passed its argparse type)."""
    problems = []
    warmup = args.warmup_epochs or 0
    if warmup < 0:
        problems.append(f"--warmup-epochs must be >= 0, got {warmup}")
    elif warmup and args.schedule != "cosine":
        problems.append(f"--warmup-epochs needs --schedule cosine, got --schedule {args.schedule}")
    elif warmup >= args.epochs:
        problems.append(f"--warmup-epochs ({warmup}) must be smaller than --epochs ({args.epochs})")
    if args.nesterov and (args.optimizer != "sgd" or args.momentum == 0):
        problems.append("--nesterov needs --optimizer sgd and a --momentum > 0")
    if args.early_stopping and not args.val_split:
        problems.append("--early-stopping needs validation data: --val-split > 0")
    return problems


def load_data(args: argparse.Namespace):
    """The dataset the flags ask for; a fallback to the sample or a checksum mismatch is said on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = load_dataset(args.dataset, args.data_dir)
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    return dataset


# ----------------------------------------------------------------------------- checkpoints (--save, --resume)


def existing_file(text: str) -> str:
    """argparse type: the path of an existing file (a checkpoint to resume or evaluate)."""
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return text


def add_checkpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """--save --save-every --resume: the checkpoint flags of every training command."""
    parser.add_argument("--save", metavar="PATH", help="write a checkpoint (.npz) here after training and on Ctrl-C")
    parser.add_argument("--save-every", type=positive_int, metavar="N", help="also write it after every N-th epoch")
    parser.add_argument(
        "--resume",
        type=existing_file,
        metavar="PATH",
        help="continue the run saved in PATH (give the same flags; --epochs is the length of the whole run)",
    )


def checkpoint_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with the combination of checkpoint flags."""
    return ["--save-every needs --save PATH"] if args.save_every and not args.save else []


def dataset_record(dataset) -> dict:
    """What a checkpoint records of the data: name, classes, image shape and the normalisation statistics."""
    return {
        "name": dataset.name,
        "classes": list(dataset.classes),
        "image_shape": list(dataset.image_shape),
        "mean": dataset.mean.tolist(),
        "std": dataset.std.tolist(),
    }


def resume_run(resumed, record: dict, dataset, parts: tuple, args: argparse.Namespace, command: str) -> bool:
    """Add the data to the run's metadata ``record`` (``dataset_record``); then, with --resume, check the
    checkpoint's metadata against it and restore ``parts`` = (model, optimizer, schedule, trainer).

    False (the reason printed) when the checkpoint does not fit; nothing is changed then.
    """
    from .common.checkpoint import CheckpointError

    record["dataset"] = dataset_record(dataset)
    if resumed is None:
        return True
    try:
        resumed.check_metadata(record)
        resumed.restore(*parts)
    except CheckpointError as error:
        print(f"nnscratch {command}: error: {error}", file=sys.stderr)
        return False
    print(f"resuming {args.resume}: {parts[-1].epoch} of {args.epochs} epochs done")
    return True


def resume_command(argv: Sequence[str], path: str | Path) -> str:
    """The command line that resumes from ``path``: ``argv`` without its --resume, plus ``--resume path``."""
    kept, skip_value = [], False
    for arg in argv:
        flag = arg.split("=", 1)[0]
        if skip_value:
            skip_value = False
        elif len(flag) > len("--re") and "--resume".startswith(flag):  # argparse accepts --resume's prefixes
            skip_value = "=" not in arg
        else:
            kept.append(arg)
    return shlex.join(["nnscratch", *kept, "--resume", str(path)])


def fit_with_checkpoints(trainer, fit: Callable[[], object], args: argparse.Namespace, metadata: dict, command: str):
    """Run ``fit()`` under the checkpoint flags; None when training ended normally, else the exit code.

    - ``--save PATH``: the final state is written there; ``--save-every N`` also after every
      N-th epoch of the run.
    - Ctrl-C: the state after the last complete epoch (``Autosave`` keeps a copy) is written to
      --save, else to --resume, else to ``<command>-interrupted.npz``, and the command that
      resumes it is printed.
    - Divergence (NonFiniteLossError): nothing of the failing epoch is written; the message
      names the last good checkpoint, which stays as it was.
    """
    from .common.autosave import Autosave
    from .vectorized.trainer import NonFiniteLossError

    start_epoch = trainer.epoch
    autosave = Autosave(args.save, metadata, args.save_every)
    try:
        autosave.record(trainer)
    except RuntimeError as error:  # a model whose state cannot be saved here (dropout on the GPU)
        if args.save:
            print(f"nnscratch {command}: error: {error}", file=sys.stderr)
            return 2
        print(f"note: Ctrl-C will not save a checkpoint: {error}", file=sys.stderr)
        autosave = None
    else:
        trainer.callbacks.append(autosave)
    try:
        fit()
    except KeyboardInterrupt:
        if autosave is None:
            raise
        path = autosave.write(args.save or args.resume or f"{command}-interrupted.npz")
        print(
            f"\ninterrupted during epoch {autosave.epoch + 1}: saved the state after epoch {autosave.epoch} to {path}"
            f"\nresume with:\n  {resume_command(getattr(args, 'argv', sys.argv[1:]), path)}",
            file=sys.stderr,
        )
        return 130
    except NonFiniteLossError as error:
        print(f"nnscratch {command}: {error}", file=sys.stderr)
        kept = (autosave and autosave.written) or ((args.resume, start_epoch) if args.resume else None)
        if kept:
            print(
                f"nothing of that epoch was saved: the last good checkpoint is {kept[0]} (epoch {kept[1]})",
                file=sys.stderr,
            )
        return 1
    if args.save:
        autosave.record(trainer)
        print(f"checkpoint: {autosave.write()} (after epoch {trainer.epoch})")
    return None


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

    add_layer_arguments(parser, ACTIVATIONS, hidden_sizes=[256, 128], dropout=0.1)
    parser.add_argument("--batchnorm", action="store_true", help="BatchNorm1D after each hidden Linear")
    add_optimizer_arguments(parser, OPTIMIZERS, optimizer="adam", lr=1e-3)
    add_schedule_arguments(parser, "cosine", "learning-rate schedule (default: %(default)s)")
    add_epoch_arguments(parser, epochs=15, batch_size=64)
    add_data_arguments(parser)
    add_checkpoint_arguments(parser)


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
    return problems + training_problems(args)


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


def _mlp_record(args: argparse.Namespace) -> dict:
    """The metadata of an ``nnscratch mlp`` checkpoint that the flags determine: the architecture
    (``build_mlp``'s arguments, less the data's sizes) and every option that shapes the run."""
    training = ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "lookahead", "schedule", "warmup_epochs")
    training += ("grad_clip", "batch_size", "val_split", "early_stopping", "seed")
    return {
        "architecture": {
            "name": "mlp",
            "hidden_sizes": args.hidden_sizes,
            "activations": args.activations,
            "dropout": args.dropout,
            "batchnorm": args.batchnorm,
        },
        "training": {name: getattr(args, name) for name in training},
    }


def _run_mlp(args: argparse.Namespace) -> int:
    from .common.checkpoint import CheckpointError, load_checkpoint

    problems = _mlp_argument_problems(args) + checkpoint_problems(args)
    if problems:
        for problem in problems:
            print(f"nnscratch mlp: error: {problem}", file=sys.stderr)
        return 2
    record = _mlp_record(args)
    try:
        resumed = load_checkpoint(args.resume, expected=record) if args.resume else None
    except CheckpointError as error:
        print(f"nnscratch mlp: error: {error}", file=sys.stderr)
        return 2
    if not _use_requested_device(args.device, "mlp"):
        return 1
    from .common.backend import current_device
    from .common.seed import manual_seed
    from .vectorized.mlp import build_mlp
    from .vectorized.optim import make_optimizer
    from .vectorized.schedules import make_schedule
    from .vectorized.trainer import Trainer

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
    record["architecture"].update(input_size=x_train.shape[1], num_classes=dataset.num_classes)
    if not resume_run(resumed, record, dataset, (model, optimizer, schedule, trainer), args, "mlp"):
        return 2
    sizes = "-".join(str(size) for size in [x_train.shape[1], *args.hidden_sizes, dataset.num_classes])
    num_parameters = sum(parameter.data.size for parameter in model.parameters())
    print(
        f"MLP {sizes} ({','.join(args.activations)}), {num_parameters:,} parameters; {args.optimizer} lr {args.lr:g}, "
        f"{args.schedule} schedule; {dataset.name}: {len(x_train):,} train ({args.val_split:.0%} held out "
        f"for validation), {len(x_test):,} test; device {current_device()}"
    )

    def fit() -> list:
        return trainer.fit(
            x_train, dataset.y_train, args.epochs, args.batch_size, args.val_split, early_stopping=args.early_stopping
        )

    code = fit_with_checkpoints(trainer, fit, args, {**record, "epochs": args.epochs}, "mlp")
    if code is not None:
        return code
    history = trainer.history  # the whole run's, resumed epochs included
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


def _run_scalar(args: argparse.Namespace) -> int:
    from .common.checkpoint import CheckpointError, load_checkpoint
    from .scalar import SGD, Adam, Network, Trainer
    from .scalar.network import layer_plan
    from .scalar.trace import trace_toy_network

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


# ----------------------------------------------------------------------------- nnscratch train / summary


def architecture_option(text: str) -> tuple[str, object]:
    """argparse type: ``KEY=VALUE`` for an architecture build option; VALUE is read as JSON when it
    can be (``width=16``, ``depths=[1,1,1,1]``, ``use_se=true``), else kept as a string."""
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"must look like KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def add_augment_arguments(parser: argparse.ArgumentParser) -> None:
    """--augment-* and --no-augment (defaults: the dataset's safe default, shifts of up to 2 pixels)."""
    group = parser.add_argument_group("augmentation (default: random shifts of up to 2 pixels; flips for cifar10)")
    group.add_argument("--augment-shift", type=int, metavar="PIXELS", help="random roll by up to +-PIXELS")
    group.add_argument("--augment-rotate", type=float, default=0.0, metavar="DEGREES", help="random rotation")
    group.add_argument("--augment-hflip", action="store_true", help="random left-right mirroring")
    group.add_argument("--augment-vflip", action="store_true", help="random upside-down mirroring")
    group.add_argument("--augment-noise", type=float, default=0.0, metavar="STD", help="Gaussian noise")
    group.add_argument("--augment-cutout", type=int, default=0, metavar="SIZE", help="blank a random SIZExSIZE square")
    group.add_argument(
        "--augment-cutmix", type=float, default=0.0, metavar="ALPHA", help="CutMix with Beta(ALPHA, ALPHA)"
    )
    group.add_argument("--augment-randaugment", type=int, default=0, metavar="N", help="RandAugment: N ops per image")
    group.add_argument(
        "--augment-magnitude", type=float, default=9.0, metavar="M", help="RandAugment magnitude in [0, 10] (9)"
    )
    group.add_argument("--no-augment", action="store_true", help="no augmentation at all")


def augmentation_from(args: argparse.Namespace):
    """The Augmentation the flags describe (a ValueError names any impossible value)."""
    from .common.augment import Augmentation, default_augmentation

    if args.no_augment:
        return Augmentation.none()
    default = default_augmentation(args.dataset)
    return Augmentation(
        shift=default.shift if args.augment_shift is None else args.augment_shift,
        rotate=args.augment_rotate,
        hflip=args.augment_hflip or default.hflip,
        vflip=args.augment_vflip,
        noise=args.augment_noise,
        cutout=args.augment_cutout,
        cutmix_alpha=args.augment_cutmix,
        randaugment_ops=args.augment_randaugment,
        randaugment_magnitude=args.augment_magnitude,
    )


def _add_train_arguments(parser: argparse.ArgumentParser) -> None:
    from .convolutional.architectures import ARCHITECTURES
    from .vectorized.optim import OPTIMIZERS

    parser.add_argument("architecture", choices=list(ARCHITECTURES), metavar="ARCH", help=", ".join(ARCHITECTURES))
    parser.add_argument(
        "--option",
        type=architecture_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an architecture build option, e.g. width=16 (see `nnscratch summary ARCH`); repeatable",
    )
    add_optimizer_arguments(parser, OPTIMIZERS, optimizer=None, lr=None, momentum=None, weight_decay=None)
    add_schedule_arguments(parser, None, "learning-rate schedule (default: the architecture's recipe)", None)
    add_epoch_arguments(parser, epochs=None, batch_size=None)
    add_augment_arguments(parser)
    parser.add_argument("--plots", metavar="DIR", help="write PNG plots (curves, confusion matrix, mistakes) here")
    add_checkpoint_arguments(parser)
    add_data_arguments(parser)
    parser.set_defaults(nesterov=None)


def apply_recipe(args: argparse.Namespace) -> None:
    """Fill every training flag the user left unset from the architecture's recipe."""
    from .convolutional.recipes import RECIPES

    recipe = RECIPES[args.architecture]
    nesterov_from_recipe = args.nesterov is None
    for name in ("epochs", "batch_size", "optimizer", "lr", "momentum", "nesterov", "weight_decay", "schedule"):
        if getattr(args, name) is None:
            setattr(args, name, getattr(recipe, name))
    if args.warmup_epochs is None:
        args.warmup_epochs = recipe.warmup_epochs if args.schedule == recipe.schedule else 0
    if args.augment_shift is None:
        args.augment_shift = recipe.augment_shift  # None still: the dataset's default
    if nesterov_from_recipe and (args.optimizer != "sgd" or args.momentum == 0):
        args.nesterov = False  # the recipe's Nesterov belongs to its own SGD; asked for, it is checked instead


def _build_model(args: argparse.Namespace):
    """The architecture for the dataset's image shape, or a ValueError saying why it cannot be built."""
    from .common.datasets import IMAGE_SHAPES
    from .convolutional.architectures import build

    channels, height, _ = IMAGE_SHAPES[args.dataset]
    num_classes = 10
    return build(args.architecture, channels, num_classes, height, **dict(args.option))


def _train_record(args: argparse.Namespace, model) -> dict:
    """The metadata of an ``nnscratch train`` checkpoint: how to rebuild the model, and every flag
    that shapes the run (as JSON sees them: tuples become lists)."""
    training = ("optimizer", "lr", "momentum", "nesterov", "weight_decay", "lookahead", "schedule", "warmup_epochs")
    training += ("grad_clip", "batch_size", "val_split", "early_stopping", "seed")
    augment = [name for name in vars(args) if name.startswith("augment_")] + ["no_augment"]
    record = {
        "architecture": model.architecture,
        "training": {name: getattr(args, name) for name in (*training, *augment)},
    }
    return json.loads(json.dumps(record))


def _run_train(args: argparse.Namespace) -> int:
    from .common.checkpoint import CheckpointError, load_checkpoint

    apply_recipe(args)
    problems = training_problems(args) + checkpoint_problems(args)
    try:
        augmentation = augmentation_from(args)
    except ValueError as error:
        problems.append(str(error))
    if problems:
        for problem in problems:
            print(f"nnscratch train: error: {problem}", file=sys.stderr)
        return 2
    from .common.backend import current_device
    from .common.seed import manual_seed
    from .convolutional.trainer import ConvTrainer
    from .vectorized.optim import make_optimizer
    from .vectorized.schedules import make_schedule

    manual_seed(args.seed)
    try:
        model = _build_model(args)
        augmentation.check_fits(model.input_shape)
    except ValueError as error:
        print(f"nnscratch train: error: {error}", file=sys.stderr)
        return 2
    record = _train_record(args, model)
    try:
        resumed = load_checkpoint(args.resume, expected=record) if args.resume else None
    except CheckpointError as error:
        print(f"nnscratch train: error: {error}", file=sys.stderr)
        return 2
    if not _use_requested_device(args.device, "train"):
        return 1
    model.to()
    dataset = load_data(args)
    x_train, x_test = dataset.normalize(dataset.x_train), dataset.normalize(dataset.x_test)
    optimizer = make_optimizer(
        args.optimizer, model.parameters(), args.lr, args.momentum, args.nesterov, args.weight_decay, args.lookahead
    )
    schedule = make_schedule(args.schedule, optimizer, args.epochs, args.warmup_epochs)
    trainer = ConvTrainer(
        model,
        optimizer,
        schedule=schedule,
        grad_clip=args.grad_clip,
        augmentation=augmentation,
        callbacks=[lambda _, entry: _print_epoch(entry, args.epochs)],
        quiet=args.quiet,
        seed=args.seed,
    )
    if not resume_run(resumed, record, dataset, (model, optimizer, schedule, trainer), args, "train"):
        return 2
    num_parameters = sum(parameter.data.size for parameter in model.parameters())
    momentum = f" momentum {args.momentum:g}{' (Nesterov)' if args.nesterov else ''}" if args.optimizer == "sgd" else ""
    print(
        f"{args.architecture}: {num_parameters:,} parameters; {args.optimizer} lr {args.lr:g}{momentum}, "
        f"weight decay {args.weight_decay:g}, {args.schedule} schedule, batch {args.batch_size}, {args.epochs} epochs; "
        f"augmentation {augmentation.describe()}; {dataset.name}: {len(x_train):,} train "
        f"({args.val_split:.0%} held out for validation), {len(x_test):,} test; device {current_device()}"
    )

    def fit() -> list:
        return trainer.fit(
            x_train,
            dataset.y_train,
            args.epochs,
            args.batch_size,
            val_split=args.val_split,
            early_stopping=args.early_stopping,
        )

    code = fit_with_checkpoints(trainer, fit, args, {**record, "epochs": args.epochs}, "train")
    if code is not None:
        return code
    history = trainer.history  # the whole run's, resumed epochs included
    predicted = report_test_results(trainer, x_test, dataset, history)
    if args.plots:
        written = write_plots(args.plots, history, dataset, predicted, args.architecture)
        print(f"plots: {', '.join(str(path) for path in written)}")
    return 0


def report_test_results(trainer, x_test, dataset, history: list[dict]) -> object:
    """Print test accuracy, loss, time and per-class accuracy; return the test predictions (host array)."""
    from .common.backend import to_cpu
    from .common.metrics import per_class_accuracy

    test_loss, test_accuracy = trainer.evaluate(x_test, dataset.y_test)
    predicted = to_cpu(trainer.predict(x_test))
    seconds = sum(entry["seconds"] for entry in history)
    # every epoch trains on the same samples, so the overall rate is the harmonic mean of the epochs' rates
    samples_per_s = len(history) / sum(1.0 / entry["samples_per_s"] for entry in history)
    stopped = f", stopped early; weights of epoch {trainer.best_epoch}" if trainer.stopped_early else ""
    print(
        f"test accuracy {test_accuracy:.2%} (loss {test_loss:.4f}) after {len(history)} epoch(s){stopped}: "
        f"{seconds:.1f}s, {samples_per_s:,.0f} training samples/s"
    )
    per_class = per_class_accuracy(predicted, dataset.y_test, dataset.num_classes)
    rows = zip(dataset.classes, per_class, strict=True)
    print("per-class accuracy: " + ", ".join(f"{name} {accuracy:.1%}" for name, accuracy in rows))
    return predicted


def write_plots(folder: str, history: list[dict], dataset, predicted, title: str) -> list:
    """Training curves, confusion matrix, misclassified and sample test images as PNG files in ``folder``."""
    from pathlib import Path

    from .common.metrics import confusion_matrix
    from .common.plots import plot_confusion_matrix, plot_history, plot_misclassified, plot_samples

    folder = Path(folder)
    matrix = confusion_matrix(predicted, dataset.y_test, dataset.num_classes)
    return [
        plot_history(history, folder / "curves.png", title=f"{title} on {dataset.name}"),
        plot_confusion_matrix(matrix, dataset.classes, folder / "confusion_matrix.png", title=f"{title}: test set"),
        plot_misclassified(dataset.x_test, dataset.y_test, predicted, dataset.classes, folder / "misclassified.png"),
        plot_samples(dataset.x_test, dataset.y_test, dataset.classes, folder / "samples.png"),
    ]


def _add_summary_arguments(parser: argparse.ArgumentParser) -> None:
    from .convolutional.architectures import ARCHITECTURES

    parser.add_argument("architecture", choices=list(ARCHITECTURES), metavar="ARCH", help=", ".join(ARCHITECTURES))
    parser.add_argument("--dataset", default="fashion-mnist", choices=DATASET_NAMES, help="sets the input shape")
    parser.add_argument("--option", type=architecture_option, action="append", default=[], metavar="KEY=VALUE")


def _run_summary(args: argparse.Namespace) -> int:
    from .convolutional.summary import format_summary, summarize

    try:
        model = _build_model(args)
    except ValueError as error:
        print(f"nnscratch summary: error: {error}", file=sys.stderr)
        return 2
    c, h, w = model.input_shape
    total = sum(int(parameter.data.size) for parameter in model.parameters())
    print(format_summary(f"{args.architecture} on {c}x{h}x{w} images", summarize(model, model.input_shape), total))
    return 0


# ----------------------------------------------------------------------------- nnscratch evaluate


def _add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", type=existing_file, metavar="PATH", help="a checkpoint written by --save")
    parser.add_argument(
        "--dataset", choices=DATASET_NAMES, help="the test set to use (default: the one the model was trained on)"
    )
    parser.add_argument("--data-dir", help="extra folder to search first (also $NNSCRATCH_DATA)")
    parser.add_argument("--plots", metavar="DIR", help="write PNG plots (confusion matrix, mistakes, curves) here")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def rebuild_model(architecture: dict):
    """The untrained model an architecture record describes, and a function taking normalised images
    (N, C, H, W) to predicted classes (N,) on the host. A ValueError when the record cannot be built.

    The record is what ``nnscratch mlp`` / ``scalar`` / ``train`` save as metadata["architecture"]:
    "name" plus the builder's arguments (for ``train``: the sizes, and the build options under "options").
    """
    from .common.backend import to_cpu
    from .vectorized.trainer import Trainer

    name = architecture.get("name")
    options = {key: value for key, value in architecture.items() if key != "name"}
    try:
        if name == "mlp":
            from .vectorized.mlp import build_mlp

            trainer = Trainer(build_mlp(**options), None, quiet=True)
            return trainer.model, lambda images: to_cpu(trainer.predict(images.reshape(len(images), -1)))
        if name == "scalar_mlp":
            from .scalar import Network
            from .scalar import Trainer as ScalarTrainer

            scalar_trainer = ScalarTrainer(Network(**options), None, quiet=True)
            return scalar_trainer.network, scalar_trainer.predict
        if "image_size" in options:  # a CNN of the gallery (nnscratch train): build(name, sizes, **options)
            from .convolutional.architectures import build

            sizes = {key: value for key, value in options.items() if key != "options"}
            model = build(name, **sizes, **options.get("options", {}))
            trainer = Trainer(model, None, quiet=True)
            return model, lambda images: to_cpu(trainer.predict(images))
    except TypeError as error:  # an argument the builder does not take, or one it misses
        raise ValueError(f"the architecture record {architecture} does not fit its builder: {error}") from None
    raise ValueError(f"cannot rebuild architecture {name!r}: nnscratch evaluate knows mlp, scalar_mlp and the gallery")


def format_confusion_matrix(matrix, classes: Sequence[str]) -> str:
    """The confusion matrix as text: one row per true class (named), one column per predicted class (numbered)."""
    width = max(len(str(int(matrix.max()))), len(str(len(classes) - 1))) + 1
    names = [f"{index} {name}"[:16] for index, name in enumerate(classes)]
    label = max(len(name) for name in names)
    lines = [" " * label + " " + "".join(f"{column:>{width}}" for column in range(len(classes)))]
    for name, row in zip(names, matrix, strict=True):
        lines.append(f"{name:<{label}} " + "".join(f"{int(count):>{width}}" for count in row))
    return "\n".join(lines)


def _run_evaluate(args: argparse.Namespace) -> int:
    from .common.checkpoint import CheckpointError, read_checkpoint
    from .common.datasets import normalize_images
    from .common.metrics import accuracy, confusion_matrix, per_class_accuracy

    try:
        checkpoint = read_checkpoint(args.checkpoint)
        architecture, trained_on = checkpoint.metadata.get("architecture"), checkpoint.metadata.get("dataset")
        if not isinstance(architecture, dict) or not isinstance(trained_on, dict):
            raise CheckpointError(
                f"{args.checkpoint}: its metadata records no architecture and dataset, so the model cannot be "
                "rebuilt (save with nnscratch mlp/scalar/train --save, or save_checkpoint(metadata=...))"
            )
        model, predict = rebuild_model(architecture)
        checkpoint.restore(model)
    except (CheckpointError, ValueError) as error:
        print(f"nnscratch evaluate: error: {error}", file=sys.stderr)
        return 1
    args.dataset = args.dataset or trained_on["name"]
    dataset = load_data(args)
    shape, num_classes = list(trained_on["image_shape"]), len(trained_on["classes"])
    if list(dataset.image_shape) != shape or dataset.num_classes != num_classes:
        print(
            f"nnscratch evaluate: error: {args.checkpoint} was trained on {trained_on['name']} ({shape} images, "
            f"{num_classes} classes); {dataset.name} has {list(dataset.image_shape)} images and "
            f"{dataset.num_classes} classes",
            file=sys.stderr,
        )
        return 1
    # the training set's normalisation, as recorded: the model has only ever seen inputs scaled this way
    predicted = predict(normalize_images(dataset.x_test, trained_on["mean"], trained_on["std"]))
    options = ", ".join(f"{key}={value}" for key, value in architecture.items() if key != "name")
    history = checkpoint.state.get("trainer", {}).get("history", [])
    print(f"{args.checkpoint}: {architecture['name']} ({options}), {len(history)} epoch(s) on {trained_on['name']}")
    print(f"test accuracy {accuracy(predicted, dataset.y_test):.2%} on {len(dataset.y_test):,} {dataset.name} images")
    per_class = per_class_accuracy(predicted, dataset.y_test, dataset.num_classes)
    rows = zip(dataset.classes, per_class, strict=True)
    print("per-class accuracy: " + ", ".join(f"{name} {value:.1%}" for name, value in rows))
    matrix = confusion_matrix(predicted, dataset.y_test, dataset.num_classes)
    print("confusion matrix (rows: true class, columns: predicted class):")
    print(format_confusion_matrix(matrix, dataset.classes))
    if args.plots:
        written = write_plots(args.plots, history, dataset, predicted, architecture["name"])
        print(f"plots: {', '.join(str(path) for path in written)}")
    return 0


SUBCOMMANDS = {
    "train": (_add_train_arguments, _run_train, "train a CNN architecture and report its test accuracy"),
    "summary": (_add_summary_arguments, _run_summary, "every layer of an architecture: shapes, parameters, FLOPs"),
    "datasets": (_add_datasets_arguments, _run_datasets, "list datasets, where they are, checksum status"),
    "download": (_add_download_arguments, _run_download, "download a dataset (the only networked command)"),
    "mlp": (_add_mlp_arguments, _run_mlp, "train the vectorized MLP (tier 2) and report its test accuracy"),
    "scalar": (_add_scalar_arguments, _run_scalar, "train the scalar network (tier 1), or --trace one sample"),
    "evaluate": (_add_evaluate_arguments, _run_evaluate, "test a saved checkpoint: accuracy, per class, confusion"),
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
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # to print the command that resumes an interrupted run
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
