"""Argument types and the flags the training commands share, each declared once.

Every value is checked by its argparse ``type``, so bad input is refused before any work starts;
``training_problems`` checks the combinations no single flag can.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from ..common.datasets import CLASSES, DATASET_NAMES, IMAGE_SHAPES, is_dataset_path, load_dataset


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0 (pixels, counts that may be zero)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text}")
    return value


def seed(text: str) -> int:
    """argparse type: a seed for NumPy's generators, an integer in [0, 2**63)."""
    value = int(text)
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2**63), got {text}")
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


def bounded_float(high: float):
    """argparse type: a float in [0, high] (degrees of rotation, RandAugment's magnitude)."""

    def parse(text: str) -> float:
        value = float(text)
        if not 0.0 <= value <= high:  # written so that NaN fails too
            raise argparse.ArgumentTypeError(f"must be in [0, {high:g}], got {text}")
        return value

    parse.__name__ = f"number in [0, {high:g}]"  # what argparse calls the type in its messages
    return parse


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


def dataset_name_or_path(text: str) -> str:
    """argparse type: a known dataset's name, or the path of an existing ``.npz`` file or image folder
    (what the file holds is checked when it is read)."""
    if text in DATASET_NAMES or (is_dataset_path(text) and Path(text).exists()):
        return text
    said = "no such file or folder" if is_dataset_path(text) else "no dataset of that name"
    raise argparse.ArgumentTypeError(
        f"{text!r}: {said}; give one of {', '.join(DATASET_NAMES)}, or the path of an .npz file or an image folder"
    )


DATASET_HELP = (
    f"{', '.join(DATASET_NAMES)}, or a dataset of your own: an .npz file or a folder train/CLASS/*.png, "
    "test/CLASS/*.png (see the docs)"
)


def add_dataset_argument(parser: argparse.ArgumentParser, default: str | None, help: str = DATASET_HELP) -> None:
    """--dataset NAME|PATH, the one definition every command shares."""
    shown = f" (default: {default})" if default else ""
    parser.add_argument("--dataset", default=default, type=dataset_name_or_path, metavar="NAME|PATH", help=help + shown)


# ----------------------------------------------------------------------------- shared flags


def add_data_arguments(parser: argparse.ArgumentParser, val_split: float = 0.1) -> None:
    """--dataset --data-dir --val-split --seed --quiet"""
    add_dataset_argument(parser, "fashion-mnist")
    parser.add_argument("--data-dir", help="extra folder to search first (also $NNSCRATCH_DATA)")
    parser.add_argument(
        "--val-split", type=unit_interval, default=val_split, help="fraction held out for validation (%(default)s)"
    )
    parser.add_argument("--seed", type=seed, default=0, help="seed for weights, shuffling, dropout (%(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def default_help(default: object, text: str = "") -> str:
    """Help text ending in the default, or in "per architecture" for the recipe-filled flags of train."""
    shown = "the architecture's recipe" if default is None else "%(default)s"
    return f"{text} (default: {shown})" if text else f"default: {shown}"


def add_watch_argument(parser: argparse.ArgumentParser) -> None:
    """--watch [K]: None when absent, K when given, 0 (the default interval) when given without K."""
    from ..vectorized.watch import DEFAULT_EVERY

    parser.add_argument(
        "--watch",
        type=non_negative_int,
        nargs="?",
        const=0,
        default=None,
        metavar="K",
        help=f"note each layer's health every K batches (0 or no K: every {DEFAULT_EVERY}) and print the health "
        "table and its warnings at the end",
    )


def add_epoch_arguments(parser: argparse.ArgumentParser, epochs: int | None, batch_size: int | None) -> None:
    """--epochs --batch-size (None: filled in later, from a recipe)"""
    parser.add_argument("--epochs", type=positive_int, default=epochs, help=default_help(epochs))
    parser.add_argument("--batch-size", type=positive_int, default=batch_size, help=default_help(batch_size))


def add_optimizer_arguments(
    parser: argparse.ArgumentParser,
    choices: Sequence[str],
    optimizer: str | None,
    lr: float | None,
    momentum: float | None = 0.9,
    weight_decay: float | None = 0.0,
) -> None:
    """--optimizer --lr --momentum --nesterov --weight-decay (None defaults: filled in later, from a recipe)"""
    parser.add_argument("--optimizer", choices=choices, default=optimizer, help=default_help(optimizer))
    parser.add_argument("--lr", type=positive_float, default=lr, help=default_help(lr, "learning rate"))
    parser.add_argument(
        "--momentum", type=unit_interval, default=momentum, help=default_help(momentum, "SGD momentum; 0 turns it off")
    )
    parser.add_argument("--nesterov", action="store_true", help="Nesterov momentum for SGD")
    parser.add_argument(
        "--weight-decay",
        type=non_negative_float,
        default=weight_decay,
        help=default_help(weight_decay, "L2 penalty (SGD, Adam: added to the gradient; AdamW: decoupled)"),
    )


def add_loss_argument(parser: argparse.ArgumentParser) -> None:
    """--loss: what a classifier is trained to lower (``vectorized/losses``); ``training_problems``
    refuses the losses that need targets shaped like the outputs rather than class labels."""
    from ..vectorized.losses import LOSSES

    parser.add_argument(
        "--loss",
        choices=LOSSES,
        default="cross-entropy",
        help="cross-entropy (from the logits), nll (LogSoftmax then the negative log-likelihood) or multi-margin "
        "(the multiclass hinge of an SVM); mse, l1, smooth-l1 and bce-with-logits need targets shaped like the "
        "outputs, not class labels (default: %(default)s)",
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
    from ..vectorized.schedules import SCHEDULES

    parser.add_argument("--schedule", choices=SCHEDULES, default=schedule, help=schedule_help)
    parser.add_argument(
        "--warmup-epochs",
        type=int,
        default=warmup_epochs,
        help=default_help(warmup_epochs, "linear warmup epochs before the cosine"),
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


def add_output_arguments(parser: argparse.ArgumentParser, tensorboard: bool = True) -> None:
    """--report DIR (an HTML page about the run) and, for the tiers with modules, --tensorboard DIR."""
    parser.add_argument(
        "--report",
        metavar="DIR",
        help="write an HTML report of the run, DIR/index.html, with its pictures and metrics (opens from disk)",
    )
    if tensorboard:
        parser.add_argument(
            "--tensorboard",
            metavar="DIR",
            help="write TensorBoard event files here: scalars, histograms, images (needs the [tensorboard] extra)",
        )


def tensorboard_problem() -> str | None:
    """Why --tensorboard cannot write (tensorboardX is missing), or None."""
    from ..vectorized.tensorboard import summary_writer_class

    try:
        summary_writer_class()
    except ImportError as error:
        return f"--tensorboard: {error}"
    return None


def add_distributed_arguments(parser: argparse.ArgumentParser) -> None:
    """--distributed --sync-bn: training by several processes, started with ``mpiexec -n K nnscratch ...``."""
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="train with every process of the MPI run (needs the [distributed] extra; under `mpiexec -n K` with "
        "K > 1 this is the default): --batch-size is the global batch, each process takes batch-size / K",
    )
    parser.add_argument(
        "--sync-bn", action="store_true", help="with several processes, BatchNorm statistics over the global batch"
    )


def training_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with a combination of optimizer/schedule flags (each alone passed its argparse type).

    A command without a flag (``scalar`` has no --schedule) is checked for the flags it has.
    """
    problems = []
    warmup = getattr(args, "warmup_epochs", 0) or 0
    if warmup < 0:
        problems.append(f"--warmup-epochs must be >= 0, got {warmup}")
    elif warmup and args.schedule != "cosine":
        problems.append(f"--warmup-epochs needs --schedule cosine, got --schedule {args.schedule}")
    elif warmup >= args.epochs:
        problems.append(f"--warmup-epochs ({warmup}) must be smaller than --epochs ({args.epochs})")
    if args.nesterov and (args.optimizer != "sgd" or args.momentum == 0):
        problems.append("--nesterov needs --optimizer sgd and a --momentum > 0")
    if getattr(args, "early_stopping", None) and not args.val_split:
        problems.append("--early-stopping needs validation data: --val-split > 0")
    return problems + loss_problems(args)


def loss_problems(args: argparse.Namespace) -> list[str]:
    """--loss against the class labels every training command trains on, and against CutMix."""
    from ..vectorized.losses import classification_problem

    loss = getattr(args, "loss", "cross-entropy")
    problem = classification_problem(loss)
    if problem:
        return [problem]
    if loss != "cross-entropy" and getattr(args, "augment_cutmix", 0):
        # CutMix mixes two images and so their labels: the targets become probability rows
        return [
            f"--augment-cutmix turns the labels into probability rows, which only --loss cross-entropy takes, "
            f"not --loss {loss}"
        ]
    return []


def split_problem(args: argparse.Namespace, labels) -> str | None:
    """Why --val-split cannot split these training labels (N,): it would leave no training or no
    validation sample. Counted as ``train_val_split`` rounds, class by class."""
    import numpy as np

    if not args.val_split:
        return None
    counts = np.unique(np.asarray(labels), return_counts=True)[1]
    held_out = sum(int(round(args.val_split * int(count))) for count in counts)
    if held_out == 0:
        return (
            f"--val-split {args.val_split:g} holds out no sample of the {len(labels):,} training images "
            "(it rounds to 0 in every class): give a larger fraction, or 0 for no validation"
        )
    if held_out == len(labels):
        return f"--val-split {args.val_split:g} holds out all {len(labels):,} training images: none is left to train on"
    return None


def optimizer_and_schedule(args: argparse.Namespace, parameters: list) -> tuple:
    """The optimizer and learning-rate schedule the flags of `mlp` and `train` ask for, over ``parameters``."""
    from ..vectorized.optim import make_optimizer
    from ..vectorized.schedules import make_schedule

    optimizer = make_optimizer(
        args.optimizer, parameters, args.lr, args.momentum, args.nesterov, args.weight_decay, args.lookahead
    )
    return optimizer, make_schedule(args.schedule, optimizer, args.epochs, args.warmup_epochs)


def load_data(args: argparse.Namespace):
    """The dataset the flags ask for; a fallback to the sample or a checksum mismatch is said on stderr.

    Kept in ``args.loaded_dataset``, so that a dataset read early (``dataset_layout``) is not read twice.
    """
    kept = getattr(args, "loaded_dataset", None)
    if kept is not None and kept.name == args.dataset:
        return kept
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = load_dataset(args.dataset, getattr(args, "data_dir", None))
    for warning in caught:
        print(f"warning: {warning.message}", file=sys.stderr)
    args.loaded_dataset = dataset
    return dataset


def dataset_layout(args: argparse.Namespace) -> tuple[tuple[int, int, int], int]:
    """((C, H, W), number of classes) of --dataset, to plan the model before training: a known name
    answers from the catalog, without reading a byte; a dataset of your own is loaded for it (once)."""
    if is_dataset_path(args.dataset):
        dataset = load_data(args)
        return dataset.image_shape, dataset.num_classes
    return IMAGE_SHAPES[args.dataset], len(CLASSES[args.dataset])


def use_requested_device(device: str, command: str) -> bool:
    """Switch to ``device``; False (with the reason on stderr) when the GPU was asked for and is missing."""
    from ..common.backend import gpu_available, use_device

    if device == "auto" and not gpu_available():
        print("note: --device auto found no usable GPU (CuPy and a CUDA device); training on the CPU", file=sys.stderr)
        device = "cpu"
    try:
        use_device(device)
    except RuntimeError as error:
        print(f"nnscratch {command}: error: {error}", file=sys.stderr)
        return False
    return True


def key_value_option(text: str) -> tuple[str, object]:
    """argparse type: ``KEY=VALUE`` for a build option (of an architecture, or of a layer). VALUE is read
    as JSON when it can be (``width=16``, ``depths=[1,1,1,1]``, ``use_se=true``); a comma-separated
    VALUE is a list of such items (``depths=1,1,1,1``: nothing for zsh or bash to expand, so it pastes
    unquoted); anything else is kept as a string. The kind each option needs is checked by its builder."""
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise argparse.ArgumentTypeError(f"must look like KEY=VALUE, got {text!r}")
    if "," in value and not value.startswith("["):
        return key, [_json_or_text(item) for item in value.split(",")]
    return key, _json_or_text(value)


def add_architecture_argument(
    parser: argparse.ArgumentParser, architectures: Sequence[str], name: str = "architecture"
) -> None:
    """ARCH (``name``: the positional ``architecture``, or a flag such as ``--arch``): one of ``architectures``,
    all of them listed in the help."""
    parser.add_argument(name, choices=list(architectures), metavar="ARCH", help=", ".join(architectures))


def add_option_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """``--option KEY=VALUE``, repeatable: build options collected as (key, value) pairs in ``args.option``."""
    parser.add_argument("--option", type=key_value_option, action="append", default=[], metavar="KEY=VALUE", help=help)


def _json_or_text(value: str) -> object:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def option_said(key: str, value: object) -> str:
    """One --option flag as it can be typed again: lists comma-separated (``--option depths=1,1,1,1``)."""
    if isinstance(value, (list, tuple)):
        return f"--option {key}={','.join(json.dumps(item) for item in value)}"
    return f"--option {key}={json.dumps(value)}"


# --augment-* flag -> (argparse type, default, metavar, help); None for shift: the dataset's default
AUGMENT_FLAGS = {
    "shift": (non_negative_int, None, "PIXELS", "random roll by up to +-PIXELS"),
    "rotate": (bounded_float(180), 0.0, "DEGREES", "random rotation by up to +-DEGREES"),
    "hflip": (None, False, None, "random left-right mirroring"),
    "vflip": (None, False, None, "random upside-down mirroring"),
    "noise": (non_negative_float, 0.0, "STD", "Gaussian noise"),
    "cutout": (non_negative_int, 0, "SIZE", "blank a random SIZExSIZE square"),
    "cutmix": (non_negative_float, 0.0, "ALPHA", "CutMix with Beta(ALPHA, ALPHA)"),
    "randaugment": (non_negative_int, 0, "N", "RandAugment: N ops per image"),
    "magnitude": (bounded_float(10), 9.0, "M", "RandAugment magnitude in [0, 10] (9)"),
}
# the operations that have a probability, --augment-OP-p: flag -> the Augmentation field it sets
AUGMENT_OPERATIONS = {
    "shift": "shift",
    "rotate": "rotate",
    "hflip": "hflip",
    "vflip": "vflip",
    "noise": "noise",
    "cutout": "cutout",
    "cutmix": "cutmix_alpha",
    "randaugment": "randaugment_ops",
}


def augment_flag_names() -> list[str]:
    """Every --augment-* flag without its dashes' prefix: "shift", ..., "magnitude", "shift-p", ..."""
    return [*AUGMENT_FLAGS, *(f"{name}-p" for name in AUGMENT_OPERATIONS)]


def _augment_value(args: argparse.Namespace, flag: str) -> object:
    return getattr(args, "augment_" + flag.replace("-", "_"))


def _augment_default(flag: str) -> object:
    """What a --augment-* flag holds when it is not given (None for the probabilities: the operation's own)."""
    return None if flag.endswith("-p") else AUGMENT_FLAGS[flag][1]


def add_augment_arguments(
    parser: argparse.ArgumentParser, title: str = "random shifts of up to 2 pixels; flips for cifar10"
) -> None:
    """--augment-*, --augment-OP-p and --no-augment (title: what the command does without them)."""
    from ..common.augment import FLIP_P

    group = parser.add_argument_group(f"augmentation (default: {title})")
    for name, (kind, default, metavar, text) in AUGMENT_FLAGS.items():
        if kind is None:
            group.add_argument(f"--augment-{name}", action="store_true", help=text)
        else:
            group.add_argument(f"--augment-{name}", type=kind, default=default, metavar=metavar, help=text)
    for name in AUGMENT_OPERATIONS:
        each = "batch is mixed" if name == "cutmix" else "image gets it"
        usual = FLIP_P if name.endswith("flip") else 1
        group.add_argument(
            f"--augment-{name}-p",
            type=bounded_float(1),
            metavar="P",
            help=f"the probability that each {each} (default: {usual})",
        )
    group.add_argument("--no-augment", action="store_true", help="no augmentation at all")


def augment_record_names(args: argparse.Namespace) -> list[str]:
    """The names in ``args`` of every augmentation flag, for a checkpoint's record of the run."""
    return [name for name in vars(args) if name.startswith("augment_")] + ["no_augment"]


def augment_conflict(args: argparse.Namespace) -> str | None:
    """Why --no-augment cannot go with the --augment-* flags given (None when it can). Call it before a
    recipe fills in defaults: it compares the flags with their argparse defaults."""
    if not args.no_augment:
        return None
    given = [
        f"--augment-{flag}" for flag in augment_flag_names() if _augment_value(args, flag) != _augment_default(flag)
    ]
    return f"--no-augment turns every augmentation off, but {', '.join(given)} asks for one" if given else None


def augmentation_from(args: argparse.Namespace, default=None):
    """The Augmentation the flags describe, over ``default`` (the dataset's default augmentation when
    None). A ValueError names any impossible value."""
    from ..common.augment import PROBABILITY_OF, Augmentation, default_augmentation

    if args.no_augment:
        return Augmentation.none()
    default = default_augmentation(args.dataset) if default is None else default
    probabilities = {
        PROBABILITY_OF[field]: _augment_value(args, f"{flag}-p")
        for flag, field in AUGMENT_OPERATIONS.items()
        if _augment_value(args, f"{flag}-p") is not None
    }
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
        **probabilities,
    )


def augmentation_problems(args: argparse.Namespace, augmentation, image_shape: tuple[int, int, int]) -> list[str]:
    """What cannot work in ``augmentation`` (built from the flags) on images (C, H, W): a shift or cutout
    as large as the image, a probability given to an operation that is off."""
    problems = []
    try:
        augmentation.check_fits(image_shape)
    except ValueError as error:
        problems.append(f"--augment-shift, --augment-cutout: {error}")
    for flag, field in AUGMENT_OPERATIONS.items():
        probability = _augment_value(args, f"{flag}-p")
        if probability is not None and not getattr(augmentation, field):
            problems.append(f"--augment-{flag}-p {probability:g} has no effect: --augment-{flag} is off")
    return problems


def add_conv_algorithm_argument(parser: argparse.ArgumentParser) -> None:
    """--conv-algorithm: the route every convolution takes (``convolutional/algorithms/``)."""
    from ..convolutional.algorithms import ALGORITHMS

    parser.add_argument(
        "--conv-algorithm",
        default="auto",
        choices=ALGORITHMS,
        help="the route every convolution takes: auto (the fastest that applies) or one by name, im2col being the "
        "reference (default: %(default)s)",
    )
