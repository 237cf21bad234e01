"""``nnscratch summary ARCH``: every layer of an architecture with shapes, parameters, FLOPs and route."""

from __future__ import annotations

import argparse
import sys

from ..common.datasets import DATASET_NAMES
from .arguments import add_conv_algorithm_argument, add_option_argument
from .train import build_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..convolutional.architectures import ARCHITECTURES

    parser.add_argument("architecture", choices=list(ARCHITECTURES), metavar="ARCH", help=", ".join(ARCHITECTURES))
    parser.add_argument("--dataset", default="fashion-mnist", choices=DATASET_NAMES, help="sets the input shape")
    add_option_argument(parser, "an architecture build option, as for `nnscratch train`; repeatable")
    add_conv_algorithm_argument(parser)


def run(args: argparse.Namespace) -> int:
    from ..convolutional.algorithms import use_algorithm
    from ..convolutional.summary import format_summary, summarize

    try:
        model = build_model(args)
        with use_algorithm(args.conv_algorithm):
            rows = summarize(model, model.input_shape)
    except ValueError as error:
        print(f"nnscratch summary: error: {error}", file=sys.stderr)
        return 2
    c, h, w = model.input_shape
    total = sum(int(parameter.data.size) for parameter in model.parameters())
    print(format_summary(f"{args.architecture} on {c}x{h}x{w} images", rows, total))
    return 0
