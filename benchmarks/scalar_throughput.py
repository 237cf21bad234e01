"""Training throughput of the scalar network (pure Python loops) against a PyTorch twin.

    python -m benchmarks.scalar_throughput [--rounds 7] [--batches 30]

Both sides train the recipe of ``nnscratch scalar`` with its defaults (784-32-10, ReLU,
SGD lr 0.01 momentum 0.9, batch 32) on the same data (Fashion-MNIST when installed, else
the bundled sample), from the same initial weights (the twin copies them). One measurement
is ``--batches`` training steps through ``Trainer._train_epoch`` (per sample: forward, loss,
backward; one optimizer step per batch) against the same loop in PyTorch on whole batches
(float32). The sides alternate (A, B, A, B, ...) so that a change in machine load hits
both, and PyTorch gets one thread, as the scalar tier has. Printed: median, range and the
ratio of the medians: what the scalar tier's clarity costs against vectorized code.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from benchmarks.mlp_throughput import summary, time_torch
from nnscratch.cli import build_parser
from nnscratch.common.datasets import load_dataset
from nnscratch.scalar import SGD, Network, Trainer

TORCH_ACTIVATIONS = {
    "relu": torch.nn.ReLU,
    "leaky_relu": torch.nn.LeakyReLU,
    "gelu": torch.nn.GELU,
    "silu": torch.nn.SiLU,
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "linear": torch.nn.Identity,
}


def torch_twin(network: Network) -> torch.nn.Sequential:
    """The scalar network's dense layers in PyTorch (float32), with a copy of its current weights."""
    layers = []
    for layer in network.dense_layers:
        linear = torch.nn.Linear(layer.num_inputs, layer.num_outputs)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([neuron.weights for neuron in layer.neurons]))
            linear.bias.copy_(torch.tensor([neuron.bias for neuron in layer.neurons]))
        layers += [linear, TORCH_ACTIVATIONS[layer.activation]()]
    return torch.nn.Sequential(*layers)


def time_scalar(trainer: Trainer, x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    """Seconds for one pass over x through ``Trainer._train_epoch`` (the loop ``fit`` runs)."""
    start = time.perf_counter()
    trainer._train_epoch(x, y, list(range(len(x))), batch_size)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="measurements per side (%(default)s)")
    parser.add_argument("--batches", type=int, default=30, help="training steps per measurement (%(default)s)")
    options = parser.parse_args()
    recipe = build_parser().parse_args(["scalar"])  # the defaults of `nnscratch scalar`
    hidden_sizes = recipe.hidden_sizes or [32]

    torch.set_num_threads(1)
    dataset = load_dataset(recipe.dataset)
    samples = min(len(dataset.x_train), options.batches * recipe.batch_size)
    x = dataset.normalize(dataset.x_train[:samples]).reshape(samples, -1)
    y = dataset.y_train[:samples]

    network = Network(x.shape[1], hidden_sizes, dataset.num_classes, recipe.activations, recipe.dropout, recipe.seed)
    twin = torch_twin(network)
    optimizer = SGD(network.parameters(), lr=recipe.lr, momentum=recipe.momentum)
    twin_optimizer = torch.optim.SGD(twin.parameters(), lr=recipe.lr, momentum=recipe.momentum)
    trainer = Trainer(network, optimizer, quiet=True, seed=recipe.seed)
    x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)

    print(
        f"scalar network {network.architecture}, {','.join(recipe.activations)}, sgd lr {recipe.lr:g} "
        f"momentum {recipe.momentum}, batch {recipe.batch_size}; {samples:,} {dataset.name} samples per "
        f"measurement; 1 thread; torch {torch.__version__}"
    )
    rates: dict[str, list[float]] = {"scalar": [], "pytorch": []}
    with threadpool_limits(limits=1, user_api="blas"):
        time_scalar(trainer, x, y, recipe.batch_size)  # warm-up of both sides
        time_torch(twin, twin_optimizer, x_torch, y_torch, recipe.batch_size, 0)
        for round_index in range(options.rounds):
            rates["scalar"].append(samples / time_scalar(trainer, x, y, recipe.batch_size))
            rates["pytorch"].append(
                samples / time_torch(twin, twin_optimizer, x_torch, y_torch, recipe.batch_size, round_index)
            )
    for name, values in rates.items():
        print(summary(name, values))
    ratio = statistics.median(rates["pytorch"]) / statistics.median(rates["scalar"])
    print(f"pytorch is {ratio:,.0f}x faster (medians)")


if __name__ == "__main__":
    main()
