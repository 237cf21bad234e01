"""Conv2D against torch.nn.Conv2d: forward+backward time and peak memory, float32, batch 64.

    python -m benchmarks.conv_modules                 # every shape, then memory at the largest
    python -m benchmarks.conv_modules --repeats 31 --threads 2 --no-memory
    python -m benchmarks.conv_modules --quick         # a smoke run: batch 4, 2 repeats, no memory

It writes ``benchmarks/reports/conv_modules.json`` (and ``.md``), whose table the performance
page shows; a smoke run, or a batch other than 64, writes to ``out/benchmarks/`` instead.

The shapes are the convolutions of LeNet-5, the BatchNorm baseline CNN and ResNet18 on 28x28
images (Fashion-MNIST). For each, both libraries get the same weights, input and upstream
gradient, run a forward and a backward (input, weight and bias gradients), and are timed
interleaved (ours, torch, ours, torch, ...) so that a burst of load on the machine hits both,
each library's threads awake and the other's asleep when it is timed (see
``benchmarks/timing.py``). Both use the same number of threads (torch.set_num_threads and, for
NumPy's BLAS, threadpoolctl). The table gives medians and [min, max] ranges in ms and the
speed ratio torch time / our time (above 1: we are faster), then the geometric mean of the
ratios. The load average is printed before and after: other work on the machine makes every
number noisier.

The floor: a convolution's forward+backward is three sets of matrix products (``product_operands``
lists them for im2col, and for Winograd's F(m x m, 3x3) where it applies); everything else is
copying and transforming. The column "products" times those products alone, on contiguous
random operands, in the same rounds, and takes the faster algorithm. torch time / products
time is the speed a Conv2D would have if it spent no time outside NumPy's matrix product: how
far the copies and transforms are from free, and where PyTorch's speed is out of reach for these
algorithms on this machine's BLAS.

The route column: the route ``algorithm="auto"`` takes for the layer (``convolutional/algorithms``),
and the same layer's time on the reference, ``algorithm="im2col"``, timed in the same rounds:
what reading the plain algorithm costs, layer by layer.

Memory: each library runs one forward+backward of the largest shape in a fresh subprocess,
which reports its peak resident memory (VmHWM, reset via /proc/self/clear_refs after the
setup) minus its resident memory before the step. That counts every allocator alike: NumPy's,
torch's and oneDNN's scratch buffers. For ours it also reports the tracemalloc peak (NumPy
registers its allocations there).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from benchmarks.machine import measured_run
from benchmarks.peak_rss import reset_peak_rss, status_kib
from benchmarks.report import load_average_text, measured_report, publish, reports_dir
from benchmarks.timing import Spread, limit_threads, time_interleaved
from nnscratch.cli.arguments import positive_int
from nnscratch.convolutional.algorithms.winograd import choose_variant, tile_grid
from nnscratch.convolutional.modules import Conv2D
from scripts.docsgen.reports import (
    CONV_MODULES_FILE,
    LIBRARIES,
    conv_module_ratios,
    conv_modules_table,
    geometric_mean,
)


class ConvShape(NamedTuple):
    """One convolution of a model, as the model builds it (for 28x28 inputs)."""

    model: str
    layer: str
    in_channels: int
    out_channels: int
    kernel: int
    stride: int
    padding: int
    size: int  # the input's height and width
    bias: bool

    def text(self) -> str:
        """e.g. "32->32 3x3 s1 p1 @28", with " +b" when the layer has a bias."""
        k = self.kernel
        return (
            f"{self.in_channels}->{self.out_channels} {k}x{k} s{self.stride} p{self.padding} @{self.size}"
            f"{' +b' if self.bias else ''}"
        )


# The bias as in the models: LeNet-5's convolutions have one; the baseline's and ResNet18's,
# each followed by BatchNorm, have none. It matters: PyTorch 2.13 on the CPU ran a 32->32 3x3
# layer about twice as slowly with a bias as without (measured on a 2-core Xeon, 2026-12-02).
SHAPES = [
    ConvShape("lenet", "conv1", 1, 6, 5, 1, 2, 28, True),
    ConvShape("lenet", "conv2", 6, 16, 5, 1, 0, 14, True),
    ConvShape("baseline", "conv1", 1, 32, 3, 1, 1, 28, False),
    ConvShape("baseline", "conv2", 32, 32, 3, 1, 1, 28, False),
    ConvShape("baseline", "conv3", 32, 64, 3, 1, 1, 14, False),
    ConvShape("baseline", "conv4", 64, 64, 3, 1, 1, 14, False),
    ConvShape("resnet18", "stem", 1, 64, 3, 1, 1, 28, False),
    ConvShape("resnet18", "layer1", 64, 64, 3, 1, 1, 28, False),
    ConvShape("resnet18", "layer2 down", 64, 128, 3, 2, 1, 28, False),
    ConvShape("resnet18", "layer2 proj", 64, 128, 1, 2, 0, 28, False),
    ConvShape("resnet18", "layer2", 128, 128, 3, 1, 1, 14, False),
    ConvShape("resnet18", "layer3 down", 128, 256, 3, 2, 1, 14, False),
    ConvShape("resnet18", "layer3 proj", 128, 256, 1, 2, 0, 14, False),
    ConvShape("resnet18", "layer3", 256, 256, 3, 1, 1, 7, False),
    ConvShape("resnet18", "layer4 down", 256, 512, 3, 2, 1, 7, False),
    ConvShape("resnet18", "layer4 proj", 256, 512, 1, 2, 0, 7, False),
    ConvShape("resnet18", "layer4", 512, 512, 3, 1, 1, 4, False),
]
BATCH = 64  # the batch of the published report (and of the models' recipes)


def output_side(shape: ConvShape) -> int:
    return (shape.size + 2 * shape.padding - shape.kernel) // shape.stride + 1


def largest_shape() -> ConvShape:
    """The shape with the most activation memory (input + output), ties broken by the kernel size."""

    def footprint(shape: ConvShape) -> tuple[int, int]:
        activations = shape.in_channels * shape.size**2 + shape.out_channels * output_side(shape) ** 2
        return activations, shape.in_channels * shape.kernel**2

    return max(SHAPES, key=footprint)


def make_case(shape: ConvShape, batch: int, seed: int = 0) -> dict:
    """Our Conv2D (auto's route, and the reference im2col), a torch.nn.Conv2d with the same weights,
    and the same float32 input and upstream gradient."""
    _, _, cin, cout, kernel, stride, padding, size, bias = shape
    rng = np.random.default_rng(seed)
    ours = Conv2D(cin, cout, kernel, stride, padding, bias=bias, seed=seed)
    reference = Conv2D(cin, cout, kernel, stride, padding, bias=bias, seed=seed, algorithm="im2col")
    theirs = torch.nn.Conv2d(cin, cout, kernel, stride, padding, bias=bias).float()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data))
        if bias:
            theirs.bias.copy_(torch.from_numpy(ours.bias.data))
    x = rng.standard_normal((batch, cin, size, size), dtype=np.float32)
    side = output_side(shape)
    grad_out = rng.standard_normal((batch, cout, side, side), dtype=np.float32)
    torch_x = torch.from_numpy(x).requires_grad_()
    torch_grad_out = torch.from_numpy(grad_out)

    def step_of(layer: Conv2D) -> Callable[[], tuple]:
        def step() -> tuple:
            layer.zero_grad()
            y = layer.forward(x)
            return y, layer.backward(grad_out)

        return step

    def torch_step() -> tuple:
        theirs.zero_grad(set_to_none=True)
        torch_x.grad = None
        y = theirs(torch_x)
        y.backward(torch_grad_out)
        return y, torch_x.grad

    return {
        "ours": ours,
        "reference": reference,
        "theirs": theirs,
        "ours_step": step_of(ours),
        "reference_step": step_of(reference),
        "torch_step": torch_step,
    }


def product_operands(shape: ConvShape, batch: int) -> dict[str, list[tuple[tuple[int, ...], tuple[int, ...]]]]:
    """The matrix products of one forward+backward, as (left, right) operand shapes, per algorithm.

    im2col, with K = C*kh*kw and P = N*H'*W' (``modules.py``):
        y = W (F, K) @ cols (K, P)     dW = dY (F, P) @ cols^T (P, K)     dcols = W^T (K, F) @ dY (F, P)
    Winograd F(m x m, 3x3), stride 1 only, with T tiles and a*a = (m + 2)^2 tile positions
    (``winograd.py``), each a batch of a*a products:
        M = V (a*a, T, C) @ U^T (a*a, C, F)    dU = dM^T (a*a, F, T) @ V (a*a, T, C)
        dV = dM (a*a, T, F) @ U (a*a, F, C)
    """
    cin, cout, kernel, side = shape.in_channels, shape.out_channels, shape.kernel, output_side(shape)
    k, p = cin * kernel * kernel, batch * side * side
    operands = {"im2col": [((cout, k), (k, p)), ((cout, p), (p, k)), ((k, cout), (cout, p))]}
    if kernel == 3 and shape.stride == 1:
        variant = choose_variant((side, side))
        tiles_h, tiles_w = tile_grid((side, side), variant)
        a2, tiles = variant.tile**2, batch * tiles_h * tiles_w
        operands["winograd"] = [
            ((a2, tiles, cin), (a2, cin, cout)),
            ((a2, cout, tiles), (a2, tiles, cin)),
            ((a2, tiles, cout), (a2, cout, cin)),
        ]
    return operands


def product_steps(shape: ConvShape, batch: int, seed: int = 0) -> dict[str, Callable[[], None]]:
    """Algorithm -> one call that runs its products (``product_operands``) on random float32 operands."""
    rng = np.random.default_rng(seed)

    def step_of(pairs: list) -> Callable[[], None]:
        arrays = [
            (rng.standard_normal(left, dtype=np.float32), rng.standard_normal(right, dtype=np.float32))
            for left, right in pairs
        ]

        def step() -> None:
            for left, right in arrays:
                np.matmul(left, right)

        return step

    return {algorithm: step_of(pairs) for algorithm, pairs in product_operands(shape, batch).items()}


def check_same_numbers(case: dict) -> None:
    """A benchmark of wrong code means nothing: all sides must agree (to float32 accuracy) first."""
    y, grad_x = case["ours_step"]()
    reference_y, reference_grad_x = case["reference_step"]()
    torch_y, torch_grad_x = case["torch_step"]()
    pairs = [
        ("y", y, torch_y),
        ("dL/dx", grad_x, torch_grad_x),
        ("dL/dW", case["ours"].weight.grad, case["theirs"].weight.grad),
        ("im2col y", reference_y, torch_y),
        ("im2col dL/dx", reference_grad_x, torch_grad_x),
        ("im2col dL/dW", case["reference"].weight.grad, case["theirs"].weight.grad),
    ]
    for name, ours, reference in pairs:
        reference = reference.detach().numpy()
        scale = float(np.abs(reference).max()) or 1.0
        error = float(np.abs(ours - reference).max()) / scale
        if error > 1e-4:
            raise AssertionError(f"{name} differs from torch by {error:.2e} (relative to its largest value)")


def describe(shape: ConvShape) -> str:
    return f"{shape.model} {shape.layer}"


def measure_shape(shape: ConvShape, batch: int, repeats: int) -> dict:
    """One result of the report: the layer's forward+backward in both libraries, and its products alone."""
    case = make_case(shape, batch)
    check_same_numbers(case)
    products = product_steps(shape, batch)
    steps = {"nnscratch": case["ours_step"], "pytorch": case["torch_step"], "reference": case["reference_step"]}
    steps.update(products)
    # one layer takes milliseconds: wake each library's threads with an untimed call before the timed one
    times = time_interleaved(steps, repeats, warmup=2, pause=0.1, untimed_first=True)

    def ms(name: str) -> dict[str, float]:
        return Spread.of([1e3 * seconds for seconds in times[name]]).as_dict()

    return {
        "model": shape.model,
        "layer": shape.layer,
        "shape": shape.text(),
        "batch_size": batch,
        "ms": {library: ms(library) for library in LIBRARIES},
        "products_ms": {algorithm: ms(algorithm) for algorithm in products},
        "route": case["ours"].last_algorithm,
        "reference_ms": ms("reference"),
    }


def run_speed(batch: int, repeats: int) -> list[dict]:
    """Every shape, printed as it is measured; returns the report's results."""
    header = (
        f"{'layer':<22} {'shape':<24} {'ours ms (median [min, max])':>28} {'torch ms (median [min, max])':>28}"
        f" {'speed':>6} {'products ms':>20} {'floor':>6} {'route':>9} {'im2col ms':>9}"
    )
    print(header)
    print("-" * len(header))
    results = []
    for shape in SHAPES:
        results.append(measure_shape(shape, batch, repeats))
        algorithm, speed, floor = conv_module_ratios(results[-1])
        cells = [
            f"{spread['median']:8.2f} [{spread['min']:7.2f}, {spread['max']:7.2f}]"
            for spread in results[-1]["ms"].values()
        ]
        products = f"{results[-1]['products_ms'][algorithm]['median']:.2f} ({algorithm})"
        route, reference = results[-1]["route"], results[-1]["reference_ms"]["median"]
        print(
            f"{describe(shape):<22} {shape.text():<24} {cells[0]:>28} {cells[1]:>28} {speed:5.2f}x {products:>20}"
            f" {floor:5.2f}x {route:>9} {reference:9.2f}",
            flush=True,
        )
    ratios = [conv_module_ratios(result)[1:] for result in results]
    speeds, floors = [speed for speed, _ in ratios], [floor for _, floor in ratios]
    print(f"\nspeed = torch time / our time: geometric mean {geometric_mean(speeds):.2f}x, lowest {min(speeds):.2f}x")
    print(
        "floor = torch time / the time of the products alone (the faster of im2col's and Winograd's, see "
        "product_operands): our speed if copies and transforms were free. "
        f"geometric mean {geometric_mean(floors):.2f}x, lowest {min(floors):.2f}x"
    )
    return results


# ----------------------------------------------------------------------------- memory


def memory_child(library: str, batch: int) -> None:
    """Run in a fresh process: one forward+backward of the largest shape; print the peaks as JSON."""
    case = make_case(largest_shape(), batch)
    step = case["ours_step"] if library == "ours" else case["torch_step"]
    before = status_kib("VmRSS")
    if before is None or not reset_peak_rss():
        raise RuntimeError("the memory measurement needs Linux's /proc/self/status and /proc/self/clear_refs")
    if library == "ours":
        tracemalloc.start()
    step()
    result = {"peak_rss_bytes": (status_kib("VmHWM") - before) * 1024}
    if library == "ours":
        result["tracemalloc_peak_bytes"] = tracemalloc.get_traced_memory()[1]
    print(json.dumps(result))


def run_memory(batch: int, threads: int) -> dict:
    """Peak memory of one forward+backward of the largest shape, each library in a fresh process (the "memory")."""
    shape = largest_shape()
    peaks = {}
    for library in ("ours", "torch"):
        command = [sys.executable, "-m", "benchmarks.conv_modules", "--memory-child", library]
        command += ["--batch", str(batch), "--threads", str(threads)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        peaks[library] = json.loads(output.strip().splitlines()[-1])
    mib = 2**20
    ours, torch_peak = peaks["ours"]["peak_rss_bytes"], peaks["torch"]["peak_rss_bytes"]
    print(f"\npeak memory of one forward+backward, {describe(shape)} {shape.text()}, batch {batch}")
    print("(peak resident memory above the resident memory before the step, each library in its own process)")
    print(
        f"  ours  {ours / mib:8.1f} MiB   (tracemalloc peak of NumPy allocations: "
        f"{peaks['ours']['tracemalloc_peak_bytes'] / mib:.1f} MiB)"
    )
    print(f"  torch {torch_peak / mib:8.1f} MiB")
    print(f"  ratio {ours / max(torch_peak, 1):.2f}x torch's")
    layer = f"{describe(shape)} ({shape.text()}, batch {batch})"
    return {"layer": layer, "peak_mib": {"nnscratch": ours / mib, "pytorch": torch_peak / mib}}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=positive_int, help=f"samples per batch (default {BATCH}; --quick: 4)")
    parser.add_argument("--repeats", type=positive_int, help="timed runs of each library per shape (default 15)")
    parser.add_argument("--threads", type=positive_int, default=2, help="BLAS and PyTorch threads (%(default)s)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    parser.add_argument("--quick", action="store_true", help="a smoke run: batch 4, 2 repeats, no memory")
    parser.add_argument(
        "--report-dir", help="where to write the report (default: benchmarks/reports; smoke runs: out/benchmarks)"
    )
    parser.add_argument("--memory-child", choices=["ours", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    batch = args.batch or (4 if args.quick else BATCH)
    if args.memory_child:
        with limit_threads(args.threads):
            memory_child(args.memory_child, batch)
        return
    repeats = args.repeats or (2 if args.quick else 15)
    with measured_run(args.threads) as run:
        print(f"batch {batch}, float32, {repeats} interleaved repeats\n", flush=True)
        results = run_speed(batch, repeats)
    memory = {} if args.no_memory or args.quick else {"memory": run_memory(batch, args.threads)}
    print(load_average_text(run["load_average"]))
    notes = [
        f"Each layer: one forward and backward (input, weight and bias gradients), float32, batch {batch}, "
        f"{repeats} timed runs per library, interleaved, each after an untimed one; {args.threads} threads for "
        "NumPy's BLAS and for PyTorch. ms: median (min–max).",
        "speed: PyTorch's time over ours; above 1, nnscratch is faster.",
        "products ms: the layer's matrix products alone (im2col's three, or Winograd's three batches where they "
        "are faster: benchmarks/conv_modules.py, product_operands) on random matrices of the same shapes. floor: "
        "PyTorch's time over it, the speed nnscratch would have if nothing but the products took time.",
        'route: the route algorithm="auto" takes for the layer; im2col ms: the same layer on the reference route, '
        "timed in the same rounds; im2col / route: what the reference costs over auto's choice.",
    ]
    command = " ".join(["python -m benchmarks.conv_modules", *argv])
    report = measured_report(run, command, results, notes=notes, **memory)
    folder = reports_dir(args.report_dir, smoke=args.quick or batch != BATCH)
    publish(report, CONV_MODULES_FILE, "Conv2D against PyTorch, layer by layer", conv_modules_table, folder)


if __name__ == "__main__":
    main()
