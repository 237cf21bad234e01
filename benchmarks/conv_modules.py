"""Conv2D against torch.nn.Conv2d: forward+backward time and peak memory, float32, batch 64.

    python -m benchmarks.conv_modules                 # every shape, then memory at the largest
    python -m benchmarks.conv_modules --repeats 31 --threads 2 --no-memory

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
far the copies and transforms are from free, and where a target is out of reach for these
algorithms on this machine's BLAS.

Memory: each library runs one forward+backward of the largest shape in a fresh subprocess,
which reports its peak resident memory (VmHWM, reset via /proc/self/clear_refs after the
setup) minus its resident memory before the step. That counts every allocator alike: NumPy's,
torch's and oneDNN's scratch buffers. For ours it also reports the tracemalloc peak (NumPy
registers its allocations there).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tracemalloc
from collections.abc import Callable

import numpy as np
import torch

from benchmarks.machine import load_average, machine_info
from benchmarks.peak_rss import reset_peak_rss, status_kib
from benchmarks.timing import limit_threads, time_interleaved
from nnscratch.convolutional.modules import Conv2D
from nnscratch.convolutional.winograd import choose_variant, tile_grid

# name, in_channels, out_channels, kernel, stride, padding, input size (square), bias: as in the
# models (LeNet-5's convolutions have a bias; the baseline's and ResNet18's, each followed by
# BatchNorm, have none). It matters: PyTorch 2.13 on the CPU ran a 32->32 3x3 layer about twice
# as slowly with a bias as without (measured on a 2-core Xeon, 2026-12-02).
SHAPES = [
    ("LeNet-5 conv1", 1, 6, 5, 1, 2, 28, True),
    ("LeNet-5 conv2", 6, 16, 5, 1, 0, 14, True),
    ("baseline conv1", 1, 32, 3, 1, 1, 28, False),
    ("baseline conv2", 32, 32, 3, 1, 1, 28, False),
    ("baseline conv3", 32, 64, 3, 1, 1, 14, False),
    ("baseline conv4", 64, 64, 3, 1, 1, 14, False),
    ("ResNet18 stem", 1, 64, 3, 1, 1, 28, False),
    ("ResNet18 layer1", 64, 64, 3, 1, 1, 28, False),
    ("ResNet18 layer2 down", 64, 128, 3, 2, 1, 28, False),
    ("ResNet18 layer2 proj", 64, 128, 1, 2, 0, 28, False),
    ("ResNet18 layer2", 128, 128, 3, 1, 1, 14, False),
    ("ResNet18 layer3 down", 128, 256, 3, 2, 1, 14, False),
    ("ResNet18 layer3 proj", 128, 256, 1, 2, 0, 14, False),
    ("ResNet18 layer3", 256, 256, 3, 1, 1, 7, False),
    ("ResNet18 layer4 down", 256, 512, 3, 2, 1, 7, False),
    ("ResNet18 layer4 proj", 256, 512, 1, 2, 0, 7, False),
    ("ResNet18 layer4", 512, 512, 3, 1, 1, 4, False),
]


def output_side(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def largest_shape() -> tuple:
    """The shape with the most activation memory (input + output), ties broken by the kernel size."""

    def footprint(shape: tuple) -> tuple[int, int]:
        _, cin, cout, kernel, stride, padding, size, _ = shape
        return cin * size * size + cout * output_side(size, kernel, stride, padding) ** 2, cin * kernel * kernel

    return max(SHAPES, key=footprint)


def make_case(shape: tuple, batch: int, seed: int = 0) -> dict:
    """Our Conv2D, a torch.nn.Conv2d with the same weights, and the same float32 input and upstream gradient."""
    _, cin, cout, kernel, stride, padding, size, bias = shape
    rng = np.random.default_rng(seed)
    ours = Conv2D(cin, cout, kernel, stride, padding, bias=bias, seed=seed)
    theirs = torch.nn.Conv2d(cin, cout, kernel, stride, padding, bias=bias).float()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data))
        if bias:
            theirs.bias.copy_(torch.from_numpy(ours.bias.data))
    x = rng.standard_normal((batch, cin, size, size), dtype=np.float32)
    side = output_side(size, kernel, stride, padding)
    grad_out = rng.standard_normal((batch, cout, side, side), dtype=np.float32)
    torch_x = torch.from_numpy(x).requires_grad_()
    torch_grad_out = torch.from_numpy(grad_out)

    def ours_step() -> tuple:
        ours.zero_grad()
        y = ours.forward(x)
        return y, ours.backward(grad_out)

    def torch_step() -> tuple:
        theirs.zero_grad(set_to_none=True)
        torch_x.grad = None
        y = theirs(torch_x)
        y.backward(torch_grad_out)
        return y, torch_x.grad

    return {"ours": ours, "theirs": theirs, "ours_step": ours_step, "torch_step": torch_step}


def product_operands(shape: tuple, batch: int) -> dict[str, list[tuple[tuple[int, ...], tuple[int, ...]]]]:
    """The matrix products of one forward+backward, as (left, right) operand shapes, per algorithm.

    im2col, with K = C*kh*kw and P = N*H'*W' (``modules.py``):
        y = W (F, K) @ cols (K, P)     dW = dY (F, P) @ cols^T (P, K)     dcols = W^T (K, F) @ dY (F, P)
    Winograd F(m x m, 3x3), stride 1 only, with T tiles and a*a = (m + 2)^2 tile positions
    (``winograd.py``), each a batch of a*a products:
        M = V (a*a, T, C) @ U^T (a*a, C, F)    dU = dM^T (a*a, F, T) @ V (a*a, T, C)
        dV = dM (a*a, T, F) @ U (a*a, F, C)
    """
    _, cin, cout, kernel, stride, padding, size, _ = shape
    side = output_side(size, kernel, stride, padding)
    k, p = cin * kernel * kernel, batch * side * side
    operands = {"im2col": [((cout, k), (k, p)), ((cout, p), (p, k)), ((k, cout), (cout, p))]}
    if kernel == 3 and stride == 1:
        variant = choose_variant((side, side))
        tiles_h, tiles_w = tile_grid((side, side), variant)
        a2, tiles = variant.tile**2, batch * tiles_h * tiles_w
        operands["winograd"] = [
            ((a2, tiles, cin), (a2, cin, cout)),
            ((a2, cout, tiles), (a2, tiles, cin)),
            ((a2, tiles, cout), (a2, cout, cin)),
        ]
    return operands


def product_steps(shape: tuple, batch: int, seed: int = 0) -> dict[str, Callable[[], None]]:
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
    """A benchmark of wrong code means nothing: both sides must agree (to float32 accuracy) first."""
    y, grad_x = case["ours_step"]()
    torch_y, torch_grad_x = case["torch_step"]()
    pairs = [
        ("y", y, torch_y),
        ("dL/dx", grad_x, torch_grad_x),
        ("dL/dW", case["ours"].weight.grad, case["theirs"].weight.grad),
    ]
    for name, ours, reference in pairs:
        reference = reference.detach().numpy()
        scale = float(np.abs(reference).max()) or 1.0
        error = float(np.abs(ours - reference).max()) / scale
        if error > 1e-4:
            raise AssertionError(f"{name} differs from torch by {error:.2e} (relative to its largest value)")


def describe(shape: tuple) -> str:
    name, cin, cout, kernel, stride, padding, size, bias = shape
    return f"{name:<21} {cin:>3}->{cout:<3} {kernel}x{kernel} s{stride} p{padding} @{size:<2}{' +b' if bias else ''}"


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(value) for value in values) / len(values))


def run_speed(batch: int, repeats: int) -> list[float]:
    header = (
        f"{'shape':<48} {'ours ms (median [min, max])':>30} {'torch ms (median [min, max])':>30} {'speed':>7}"
        f" {'products ms':>12} {'floor':>7}"
    )
    print(header)
    print("-" * len(header))
    ratios, floors = [], []
    for shape in SHAPES:
        case = make_case(shape, batch)
        check_same_numbers(case)
        products = product_steps(shape, batch)
        steps = {"ours": case["ours_step"], "torch": case["torch_step"], **products}
        # one layer takes milliseconds: wake each library's threads with an untimed call before the timed one
        times = time_interleaved(steps, repeats, warmup=2, pause=0.1, untimed_first=True)
        cells = []
        for name in ("ours", "torch"):
            ms = [1e3 * t for t in times[name]]
            cells.append(f"{statistics.median(ms):8.2f} [{min(ms):7.2f}, {max(ms):7.2f}]")
        medians = {name: statistics.median(seconds) for name, seconds in times.items()}
        ratios.append(medians["torch"] / medians["ours"])
        fastest_products = min(medians[algorithm] for algorithm in products)
        floors.append(medians["torch"] / fastest_products)
        print(
            f"{describe(shape):<48} {cells[0]:>30} {cells[1]:>30} {ratios[-1]:6.2f}x"
            f" {1e3 * fastest_products:12.2f} {floors[-1]:6.2f}x",
            flush=True,
        )
    print(
        f"\nspeed = torch time / our time. geometric mean {geometric_mean(ratios):.2f}x (target >= 1.0x), "
        f"lowest {min(ratios):.2f}x (target >= 0.7x)"
    )
    print(
        "floor = torch time / the time of the products alone (the faster of im2col's and Winograd's, see "
        "product_operands): our speed if copies and transforms were free. "
        f"geometric mean {geometric_mean(floors):.2f}x, lowest {min(floors):.2f}x"
    )
    return ratios


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


def run_memory(batch: int, threads: int) -> None:
    shape = largest_shape()
    peaks = {}
    for library in ("ours", "torch"):
        command = [sys.executable, "-m", "benchmarks.conv_modules", "--memory-child", library]
        command += ["--batch", str(batch), "--threads", str(threads)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        peaks[library] = json.loads(output.strip().splitlines()[-1])
    mib = 2**20
    ours, torch_peak = peaks["ours"]["peak_rss_bytes"], peaks["torch"]["peak_rss_bytes"]
    print(f"\npeak memory of one forward+backward, {describe(shape).strip()}, batch {batch}")
    print("(peak resident memory above the resident memory before the step, each library in its own process)")
    print(
        f"  ours  {ours / mib:8.1f} MiB   (tracemalloc peak of NumPy allocations: "
        f"{peaks['ours']['tracemalloc_peak_bytes'] / mib:.1f} MiB)"
    )
    print(f"  torch {torch_peak / mib:8.1f} MiB")
    print(f"  ratio {ours / max(torch_peak, 1):.2f}x torch's (target <= 2x)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15, help="timed runs of each library per shape")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    parser.add_argument("--memory-child", choices=["ours", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    limits = limit_threads(args.threads)
    if args.memory_child:
        memory_child(args.memory_child, args.batch)
        return
    machine = ", ".join(f"{key} {value}" for key, value in machine_info(args.threads).items())
    print(f"{machine}; batch {args.batch}, float32, {args.repeats} interleaved repeats\n")
    print(f"load average before: {load_average():.2f}")
    run_speed(args.batch, args.repeats)
    print(f"load average after: {load_average():.2f}")
    if not args.no_memory:
        run_memory(args.batch, args.threads)
    del limits


if __name__ == "__main__":
    main()
