"""``nnscratch export PATH -o model.onnx``: a saved model as an ONNX graph, for ONNX Runtime and friends.

The model is rebuilt from the checkpoint as ``evaluate`` rebuilds it, then written by
``interop.onnx.export_onnx`` (no PyTorch involved). The graph reads normalised images, as the
model always has: the file's metadata records the mean and standard deviation to apply (for
``nnscratch reconstruct``'s image-to-image models 0 and 1: they read pixels in [0, 1]).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from .checkpoints import existing_file
from .errors import fail
from .evaluate import input_normalization, load_saved_model
from .paths import output_file_problem


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", type=existing_file, metavar="PATH", help="a checkpoint written by --save")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="the ONNX file to write (*.onnx)")


def _is_onnx_file(path: Path) -> bool:
    """By its name: an existing *.onnx file may be replaced, as a new export of the model."""
    return path.suffix == ".onnx"


def run(args: argparse.Namespace) -> int:
    """Write the ONNX file; a checkpoint or output path it cannot use is an error (exit 2)."""
    from ..interop.onnx import OPSET, export_onnx
    from ..vectorized.module import Module

    if not _is_onnx_file(Path(args.output)):
        return fail("export", f"--output: {args.output}: name the file *.onnx (export writes ONNX)")
    problem = output_file_problem("--output", args.output, _is_onnx_file, "an ONNX file")
    if problem:
        return fail("export", problem)
    checkpoint, model, _ = load_saved_model(args.checkpoint)
    architecture, trained_on = checkpoint.metadata["architecture"], checkpoint.metadata["dataset"]
    if not isinstance(model, Module):
        return fail(
            "export", f"{args.checkpoint}: the scalar tier's network has no ONNX form; export a model of mlp or train"
        )
    # a gallery model records its image shape; the MLP reads each image flattened
    input_shape = getattr(model, "input_shape", (math.prod(trained_on["image_shape"]),))
    normalize_mean, normalize_std = input_normalization(checkpoint.metadata)
    metadata = {
        "architecture": json.dumps(architecture),
        "dataset": trained_on["name"],
        "normalize_mean": json.dumps(normalize_mean),
        "normalize_std": json.dumps(normalize_std),
    }
    export_onnx(model, args.output, input_shape, metadata)
    shape = ", ".join(["N", *map(str, input_shape)])
    # reconstruct's models give images, or a mask's logits (tiny_unet); classifiers give class logits
    task = checkpoint.metadata.get("task")
    output = "logits" if task is None else "mask logits" if task["target"] == "mask" else "images"
    print(
        f"{args.output}: {architecture['name']} as ONNX (opset {OPSET}), input 'input' ({shape}) -> 'output' {output}"
    )
    mean, std = (", ".join(f"{value:.4f}" for value in values) for values in (normalize_mean, normalize_std))
    print(
        f"it reads images scaled to [0, 1] then normalised as in training, (x - [{mean}]) / [{std}] (in its metadata)"
    )
    return 0
