"""``nnscratch gradcheck LAYER``: check a layer's backward against central differences.

    $ nnscratch gradcheck Conv2D --option kernel_size=5 --shape 2,1,8,8
    Conv2D(1, 2, kernel_size=(5, 5), ...) on input (2, 1, 8, 8), float64: eps 1e-06, tolerance ...
    gradient  shape         worst relative error  result
    input     (2, 1, 8, 8)  1.3e-07               ok
    weight    (2, 1, 5, 5)  2.5e-09               ok
    bias      (2,)          2.3e-10               ok
    all agree with central differences

The loss is sum(layer(x) * g) for a fixed random g; ``backward(g)`` gives dL/dx and each
parameter's gradient, and every one of their numbers is compared with
(L(v + eps) - L(v - eps)) / (2 eps) (``nnscratch.testing``). Exit 0 when all agree, 1 when
one does not, 2 for bad input (a layer it does not know, a shape the layer cannot take).
"""

from __future__ import annotations

import argparse
import sys

from .arguments import add_option_argument, int_list
from .gradcheck_layers import LAYERS, MAX_ELEMENTS, build_layer, default_shape

FLOAT32_WARNING = (
    "warning: central differences need float64: float32 keeps about 7 digits, so a step of 1e-06 is lost "
    "in rounding and the estimates are noise; expect failures (use --dtype float64)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("layer", metavar="LAYER", help=f"a layer of the library: {', '.join(LAYERS)}")
    parser.add_argument(
        "--shape", type=int_list, metavar="N,C,H,W", help="the input's shape (default: (4, 5) or (2, 3, 6, 6))"
    )
    parser.add_argument("--dtype", default="float64", choices=("float64", "float32"), help="default: %(default)s")
    add_option_argument(parser, "a constructor argument of the layer, e.g. kernel_size=5; repeatable")
    parser.add_argument("--seed", type=int, default=0, help="seeds the weights, the input and g (default: 0)")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ..common.seed import manual_seed
    from ..testing import DEFAULT_ATOL, DEFAULT_EPS, DEFAULT_RTOL, module_gradients

    manual_seed(args.seed)
    shape = tuple(args.shape) if args.shape else default_shape(args.layer)
    layer = build_layer(args.layer, shape, dict(args.option)).to(np.dtype(args.dtype))
    # a stream apart from g's (drawn from ``seed`` itself): with x == g, BatchNorm's dL/dx would be ~0
    x = np.random.default_rng([args.seed, 1]).standard_normal(shape).astype(args.dtype)
    size = x.size + sum(parameter.data.size for parameter in layer.parameters())
    if size > MAX_ELEMENTS:
        raise ValueError(
            f"{size:,} numbers to check (input and parameters) is too many for central differences, two forward "
            f"passes each; at most {MAX_ELEMENTS:,}: choose a smaller --shape or smaller options"
        )
    layer.forward(x)  # a shape the layer cannot take is refused here, with the layer's own message
    if args.dtype == "float32":
        print(FLOAT32_WARNING, file=sys.stderr)
    print(
        f"{type(layer).__name__}({layer.extra_repr()}) on input {shape}, {args.dtype}: eps {DEFAULT_EPS:g}, "
        f"tolerance {DEFAULT_ATOL:g} + {DEFAULT_RTOL:g} * |central difference|"
    )
    args.run_started = True  # from here on an error is a failure of the check (exit 1), not bad input
    failures = print_table(module_gradients(layer, x, seed=args.seed))
    for failure in failures:
        print(failure)
    verdict = "all agree" if not failures else f"{len(failures)} disagree"
    print(f"{verdict} with central differences")
    return 1 if failures else 0


def print_table(gradients: dict) -> list[str]:
    """One row per gradient (input, then each parameter): its shape, worst relative error and verdict.
    Returns the messages of those that fail, each naming its worst element."""
    from ..testing import GradcheckError, assert_gradient_close, worst_relative_error

    rows, failures = [], []
    for name, (analytic, numeric) in gradients.items():
        try:
            assert_gradient_close(name, analytic, numeric)
            result = "ok"
        except GradcheckError as error:
            result = "FAIL"
            failures.append(str(error))
        rows.append((name, str(analytic.shape), f"{worst_relative_error(analytic, numeric):.1e}", result))
    header = ("gradient", "shape", "worst relative error", "result")
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    for row in (header, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return failures
