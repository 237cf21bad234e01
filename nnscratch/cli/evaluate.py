"""``nnscratch evaluate PATH``: rebuild a saved model from its metadata and test it.

PATH is a checkpoint (``.npz``, written by ``--save``: it records the architecture and the data's
normalisation), or a ``.safetensors`` file of weights alone (``save_weights``, or a PyTorch
twin's ``state_dict()``): then ``--arch`` and ``--option`` name the model the weights fit, and
the images are normalised with the training statistics of ``--dataset``, as ``train`` does.
"""

from __future__ import annotations

import argparse

from . import arguments
from .arguments import add_architecture_argument, add_option_argument
from .checkpoints import existing_file
from .errors import fail
from .output import format_confusion_matrix, plural, write_plots
from .paths import output_folder_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..convolutional.architectures import ARCHITECTURES

    parser.add_argument(
        "checkpoint",
        type=existing_file,
        metavar="PATH",
        help="a checkpoint written by --save, or a .safetensors file of weights (with --arch)",
    )
    arguments.add_dataset_argument(
        parser, None, f"the test set to use (default: the one the model was trained on): {arguments.DATASET_HELP}"
    )
    parser.add_argument("--data-dir", help="extra folder to search first (also $NNSCRATCH_DATA)")
    parser.add_argument("--plots", metavar="DIR", help="write PNG plots (confusion matrix, mistakes, curves) here")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    weights = parser.add_argument_group("a .safetensors file holds weights only: the model they fit")
    add_architecture_argument(weights, ARCHITECTURES, "--arch")
    add_option_argument(weights, "a build option of --arch, as for `nnscratch train`; repeatable")


def rebuild_model(architecture: dict):
    """The untrained model an architecture record describes, and a function taking normalised images
    (N, C, H, W) to its predictions on the host: classes (N,), or for an image-to-image model its
    output images (N, C', H, W). A ValueError when the record cannot be built.

    The record is what ``nnscratch mlp`` / ``scalar`` / ``train`` / ``reconstruct`` save as
    metadata["architecture"]: "name" plus the builder's arguments (for the gallery's models: the
    sizes, and the build options under "options").
    """
    from ..common.backend import to_cpu
    from ..vectorized.trainer import Trainer

    name = architecture.get("name")
    options = {key: value for key, value in architecture.items() if key != "name"}
    try:
        if name == "mlp":
            from ..vectorized.mlp import build_mlp

            trainer = Trainer(build_mlp(**options), None, quiet=True)
            return trainer.model, lambda images: to_cpu(trainer.predict(images.reshape(len(images), -1)))
        if name == "scalar_mlp":
            from ..scalar import Network
            from ..scalar import Trainer as ScalarTrainer

            scalar_trainer = ScalarTrainer(Network(**options), None, quiet=True)
            return scalar_trainer.network, scalar_trainer.predict
        if "image_size" in options:  # a model of the gallery (train, reconstruct): build(name, sizes, **options)
            from ..convolutional.architectures import IMAGE_TO_IMAGE, build, build_image_to_image

            image_to_image = name in IMAGE_TO_IMAGE
            sizes = {key: value for key, value in options.items() if key != "options"}
            model = (build_image_to_image if image_to_image else build)(name, **sizes, **options.get("options", {}))
            trainer = Trainer(model, None, quiet=True)
            predict = trainer.predict_logits if image_to_image else trainer.predict  # raw outputs, or classes
            return model, lambda images: to_cpu(predict(images))
    except TypeError as error:  # an argument the builder does not take, or one it misses
        raise ValueError(f"the architecture record {architecture} does not fit its builder: {error}") from None
    raise ValueError(f"cannot rebuild architecture {name!r}: nnscratch evaluate knows mlp, scalar_mlp and the gallery")


def _count_numbers(value) -> int:
    """How many numbers a saved model state holds (arrays, or the scalar tier's nested lists)."""
    if hasattr(value, "size"):
        return int(value.size)
    if isinstance(value, dict):
        return sum(_count_numbers(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_count_numbers(item) for item in value)
    return 1


def _rebuild_within_weights(path: str, architecture: dict, model_state) -> tuple:
    """``rebuild_model``, in the memory the saved weights justify: a tampered record (say, hidden
    sizes of millions) is refused at its first allocation beyond that, not built at any cost."""
    from ..common.checkpoint import CheckpointError
    from ..common.memory import allocation_limit

    # a scalar parameter is a Python object of about 330 bytes; 64x the 8-byte numbers covers it
    budget = 64 * 8 * _count_numbers(model_state) + 256 * 2**20
    try:
        with allocation_limit(budget):
            return rebuild_model(architecture)
    except MemoryError:
        raise CheckpointError(
            f"{path}: the architecture its metadata records is far larger than the weights it holds"
        ) from None
    except ValueError as error:
        raise CheckpointError(f"{path}: the architecture its metadata records cannot be built: {error}") from error


def input_normalization(metadata: dict) -> tuple[list[float], list[float]]:
    """The (mean, std) per channel a checkpoint's model reads its images normalised with (after
    scaling to [0, 1]): the training set's statistics, or none for ``nnscratch reconstruct``'s models."""
    from .reconstruct import pixel_scaling

    trained_on = metadata["dataset"]
    if "task" in metadata:  # only reconstruct records what its model learns to output
        return pixel_scaling(len(trained_on["mean"]))
    return trained_on["mean"], trained_on["std"]


def load_saved_model(path: str) -> tuple:
    """The model checkpoint ``path`` holds, rebuilt from its metadata with its weights restored:
    (checkpoint, model, predict as ``rebuild_model`` gives it). A CheckpointError when it cannot be."""
    from ..common.checkpoint import CheckpointError, read_checkpoint

    checkpoint = read_checkpoint(path)
    architecture, trained_on = checkpoint.metadata.get("architecture"), checkpoint.metadata.get("dataset")
    if not isinstance(architecture, dict) or not isinstance(trained_on, dict):
        raise CheckpointError(
            f"{path}: its metadata records no architecture and dataset, so the model cannot be "
            "rebuilt (save with nnscratch mlp/scalar/train --save, or save_checkpoint(metadata=...))"
        )
    model, predict = _rebuild_within_weights(path, architecture, checkpoint.state.get("model"))
    checkpoint.restore(model)
    return checkpoint, model, predict


def run(args: argparse.Namespace) -> int:
    """Test the checkpoint or weights; one they cannot use, a dataset or a --plots folder is an error (exit 2)."""
    if args.plots is not None:
        problem = output_folder_problem("--plots", args.plots)
        if problem:
            return fail("evaluate", problem)
    weights_file = args.checkpoint.endswith(".safetensors")
    if weights_file != (args.arch is not None):
        return fail("evaluate", _arch_problem(args.checkpoint, weights_file))
    if args.option and not weights_file:
        return fail("evaluate", f"--option is for a .safetensors file with --arch; {args.checkpoint} records its own")
    return _evaluate_weights(args) if weights_file else _evaluate_checkpoint(args)


def _arch_problem(path: str, weights_file: bool) -> str:
    if weights_file:
        return f"{path} holds weights only: name the architecture they fit with --arch ARCH (and its --option flags)"
    return f"--arch is for a .safetensors file of weights; {path} is a checkpoint, which records its architecture"


def _evaluate_weights(args: argparse.Namespace) -> int:
    """Build --arch for --dataset (default fashion-mnist), load the weights into it, test it."""
    from ..common.backend import to_cpu
    from ..interop.safetensors import load_weights
    from ..vectorized.trainer import Trainer
    from .train import build_model, options_said

    args.architecture, args.dataset = args.arch, args.dataset or "fashion-mnist"
    model = build_model(args)
    try:
        load_weights(model, args.checkpoint)  # checked against the model before anything is read
    except ImportError as error:  # the safetensors package is an optional extra
        return fail("evaluate", f"{args.checkpoint}: {error}")
    dataset = arguments.load_data(args)
    predicted = to_cpu(Trainer(model, None, quiet=True).predict(dataset.normalize(dataset.x_test)))
    options = f" ({options_said(args)})" if args.option else ""
    described = f"{args.arch}{options}, weights only, normalised as {dataset.name}'s training images"
    _report(args, args.arch, described, dataset, predicted, [])
    return 0


def _evaluate_checkpoint(args: argparse.Namespace) -> int:
    """Rebuild the model its metadata records, restore it, test it on the data it was trained on."""
    from ..common.datasets import normalize_images

    checkpoint, _, predict = load_saved_model(args.checkpoint)
    architecture, trained_on = checkpoint.metadata["architecture"], checkpoint.metadata["dataset"]
    task = checkpoint.metadata.get("task")  # what an image-to-image model of reconstruct learns to output
    if task is not None and args.plots:
        return fail("evaluate", f"--plots: {args.checkpoint} holds an image-to-image model; use reconstruct --plots")
    args.dataset = args.dataset or trained_on["name"]
    dataset = arguments.load_data(args)
    shape, num_classes = list(trained_on["image_shape"]), len(trained_on["classes"])
    if list(dataset.image_shape) != shape or dataset.num_classes != num_classes:
        return fail(
            "evaluate",
            f"{args.checkpoint} was trained on {trained_on['name']} ({shape} images, {num_classes} classes); "
            f"{dataset.name} has {list(dataset.image_shape)} images and {dataset.num_classes} classes",
        )
    # the normalisation of training, as recorded: the model has only ever seen inputs scaled this way
    images = normalize_images(dataset.x_test, *input_normalization(checkpoint.metadata))
    outputs = predict(images)
    options = ", ".join(f"{key}={value}" for key, value in architecture.items() if key != "name")
    history = checkpoint.state.get("trainer", {}).get("history", [])
    epochs = plural(len(history), "epoch")
    described = f"{architecture['name']} ({options}), {epochs} on {trained_on['name']}"
    if task is None:
        _report(args, architecture["name"], described, dataset, outputs, history)
    else:
        _report_images(args, described, images, outputs, task.get("target"), epochs)
    return 0


def _report_images(args: argparse.Namespace, described: str, images, outputs, target: str, epochs: str) -> None:
    """Score an image-to-image model's ``outputs`` for the test ``images`` (pixels in [0, 1]) as
    ``nnscratch reconstruct`` scores them, against the images or their masks (``target``)."""
    from .reconstruct import scores_line, target_images

    print(f"{args.checkpoint}: {described}")
    print(scores_line(outputs, target_images(images, target), target, epochs))


def _report(args: argparse.Namespace, name: str, described: str, dataset, predicted, history: list) -> None:
    """Print accuracy, per-class accuracy and the confusion matrix of the ``predicted`` classes (N,) of
    model ``name``; with --plots, write them (and the training curves of ``history``) as PNG files."""
    from ..common.metrics import accuracy, confusion_matrix, per_class_accuracy

    print(f"{args.checkpoint}: {described}")
    print(f"test accuracy {accuracy(predicted, dataset.y_test):.2%} on {len(dataset.y_test):,} {dataset.name} images")
    per_class = per_class_accuracy(predicted, dataset.y_test, dataset.num_classes)
    rows = zip(dataset.classes, per_class, strict=True)
    print("per-class accuracy: " + ", ".join(f"{name} {value:.1%}" for name, value in rows))
    matrix = confusion_matrix(predicted, dataset.y_test, dataset.num_classes)
    print("confusion matrix (rows: true class, columns: predicted class):")
    print(format_confusion_matrix(matrix, dataset.classes))
    if args.plots:
        written = write_plots(args.plots, history, dataset, predicted, name)
        print(f"plots: {', '.join(str(path) for path in written)}")
