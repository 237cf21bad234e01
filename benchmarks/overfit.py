"""Can every full-size architecture overfit a batch of 32 real images? (training loss < 0.05 within 200 steps)

    python -m benchmarks.overfit [ARCH ...]

The test suite runs this check at reduced widths (tests/convolutional/test_architectures.py);
this script runs it on the models as ``nnscratch train`` builds them, at 1x28x28 (Fashion-MNIST)
and 3x32x32 (the same images padded and repeated over three channels), with Adam at lr 2e-3 and
dropout off. It prints the steps needed, the final loss and the time per step.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from nnscratch.common.cross_entropy import CrossEntropyLoss
from nnscratch.common.datasets import load_dataset
from nnscratch.common.seed import manual_seed
from nnscratch.convolutional.architectures import ARCHITECTURES, build, options_of
from nnscratch.vectorized.optim import Adam

TARGET_LOSS = 0.05
MAX_STEPS = 200


def overfit(name: str, images: np.ndarray, labels: np.ndarray) -> tuple[int, float, float]:
    """(steps, final loss, seconds per step) of Adam on one batch until the loss is below the target."""
    manual_seed(0)
    options = {"dropout": 0.0} if "dropout" in options_of(name) else {}
    model = build(name, images.shape[1], 10, images.shape[2], **options)
    optimizer = Adam(model.parameters(), lr=2e-3)
    loss_fn = CrossEntropyLoss()
    start = time.perf_counter()
    steps = 0
    while True:
        steps += 1
        loss = float(loss_fn.forward(model.forward(images), labels))
        if loss < TARGET_LOSS or steps == MAX_STEPS:
            return steps, loss, (time.perf_counter() - start) / steps
        optimizer.zero_grad()
        model.backward(loss_fn.backward())
        optimizer.step()


def architectures_to_run(argv: list[str] | None = None) -> list[str]:
    """The architectures named on the command line, or all of them when none is."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # checked here rather than with choices=: argparse (3.11) would test the empty list against them
    parser.add_argument("architectures", nargs="*", help=f"any of {', '.join(ARCHITECTURES)} (default: all)")
    names = parser.parse_args(argv).architectures
    unknown = [name for name in names if name not in ARCHITECTURES]
    if unknown:
        parser.error(f"unknown architecture(s) {', '.join(unknown)}; choose from {', '.join(ARCHITECTURES)}")
    return names or list(ARCHITECTURES)


def main() -> None:
    names = architectures_to_run()
    data = load_dataset("sample")
    gray = data.normalize(data.x_train[:32])
    rgb = np.repeat(np.pad(gray, ((0, 0), (0, 0), (2, 2), (2, 2))), 3, axis=1)
    labels = data.y_train[:32]
    print(f"{'architecture':<20} {'input':<8} {'steps':>6} {'loss':>8} {'s/step':>8}  result")
    for name in names:
        for images in (gray, rgb):
            steps, loss, seconds = overfit(name, images, labels)
            shape = "x".join(str(s) for s in images.shape[1:])
            verdict = "ok" if loss < TARGET_LOSS else "FAILED"
            print(f"{name:<20} {shape:<8} {steps:>6} {loss:>8.4f} {seconds:>8.2f}  {verdict}", flush=True)


if __name__ == "__main__":
    main()
