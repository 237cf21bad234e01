"""Training throughput of the vectorized MLP against a PyTorch twin, in the same process.

    python -m benchmarks.mlp_throughput [--rounds 10] [--batches 200] [--threads 2] [--full-recipe]

Both sides train the recipe of ``nnscratch mlp`` with its defaults (model 784-256-128-10,
its activation and dropout, its optimizer and learning rate, batch 64) on the same data
(Fashion-MNIST when installed, else the bundled sample), starting from the same weights:
the PyTorch twin copies nnscratch's initial weights. One measurement is ``--batches``
training steps of a shuffled epoch (gather the batch, forward, loss, backward, step, sum
loss and accuracy without a host sync), timed end to end. The two sides alternate
(A, B, A, B, ...) so that a change in machine load hits both, with the same thread count
for NumPy's BLAS and for PyTorch. Printed: median, range and the ratio of the medians.

``--full-recipe`` then also runs the whole recipe once on each side (``nnscratch mlp`` itself,
then the PyTorch twin with the same validation split, epochs and cosine schedule) and prints
their test accuracy, wall time and training samples/s.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from nnscratch.cli import build_parser
from nnscratch.cli import main as nnscratch_main
from nnscratch.common.datasets import load_dataset, train_val_split
from nnscratch.common.seed import manual_seed
from nnscratch.vectorized.mlp import build_mlp
from nnscratch.vectorized.modules import GELU, Dropout, Linear, ReLU, Sequential, Sigmoid, SiLU, Tanh
from nnscratch.vectorized.optim import make_optimizer
from nnscratch.vectorized.trainer import Trainer

TORCH_OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
TORCH_ACTIVATIONS = {ReLU: torch.nn.ReLU, Tanh: torch.nn.Tanh, Sigmoid: torch.nn.Sigmoid, SiLU: torch.nn.SiLU}


def torch_twin(model: Sequential) -> torch.nn.Sequential:
    """The same layers in PyTorch, with a copy of the nnscratch model's current weights (float32)."""
    layers = []
    for layer in model:
        if isinstance(layer, Linear):
            twin = torch.nn.Linear(layer.in_features, layer.out_features)
            with torch.no_grad():
                twin.weight.copy_(torch.from_numpy(layer.weight.data))
                twin.bias.copy_(torch.from_numpy(layer.bias.data))
        elif isinstance(layer, Dropout):
            twin = torch.nn.Dropout(layer.p)
        elif isinstance(layer, GELU):
            twin = torch.nn.GELU(approximate=layer.approximate)
        else:
            twin = TORCH_ACTIVATIONS[type(layer)]()
        layers.append(twin)
    return torch.nn.Sequential(*layers)


def torch_optimizer(args: argparse.Namespace, model: torch.nn.Module) -> torch.optim.Optimizer:
    options = {"lr": args.lr, "weight_decay": args.weight_decay}
    if args.optimizer == "sgd":
        options.update(momentum=args.momentum, nesterov=args.nesterov)
    return TORCH_OPTIMIZERS[args.optimizer](model.parameters(), **options)


def time_torch(model, optimizer, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int) -> float:
    """Seconds for one pass over x: the loop of nnscratch's Trainer, written for PyTorch."""
    model.train()
    start = time.perf_counter()
    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(x)))
    loss_sum, correct = torch.zeros(()), torch.zeros((), dtype=torch.int64)
    for first in range(0, len(x), batch_size):
        indices = order[first : first + batch_size]
        inputs, labels = x[indices], y[indices]
        logits = model(inputs)
        loss = torch.nn.functional.cross_entropy(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            loss_sum += loss * len(labels)
            correct += (logits.argmax(dim=1) == labels).sum()
    float(loss_sum), int(correct)  # the one host sync per epoch, as in nnscratch
    return time.perf_counter() - start


def time_nnscratch(trainer: Trainer, x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    """Seconds for one pass over x through ``Trainer._train_epoch`` (the loop ``fit`` runs)."""
    start = time.perf_counter()
    trainer._train_epoch(x, y, batch_size)
    return time.perf_counter() - start


def settle() -> None:
    """Let the other side's worker threads stop spinning: OpenBLAS and OpenMP threads busy-wait for a
    while after their last task, and would otherwise steal a core from the measurement that follows."""
    time.sleep(0.3)


def summary(name: str, rates: list[float]) -> str:
    median = statistics.median(rates)
    return f"{name:<10} median {median:>9,.0f} samples/s   range {min(rates):>9,.0f} .. {max(rates):>9,.0f}"


def flatten(dataset, images: np.ndarray) -> np.ndarray:
    """uint8 images (N, C, H, W) -> normalised float32 rows (N, C*H*W), as ``nnscratch mlp`` feeds them."""
    return dataset.normalize(images).reshape(len(images), -1)


def torch_full_recipe(recipe: argparse.Namespace, dataset) -> None:
    """The recipe of ``nnscratch mlp`` end to end in PyTorch, from the same initial weights and split."""
    x, y, _, _ = train_val_split(flatten(dataset, dataset.x_train), dataset.y_train, recipe.val_split, recipe.seed)
    x_test, y_test = torch.from_numpy(flatten(dataset, dataset.x_test)), torch.from_numpy(dataset.y_test)
    manual_seed(recipe.seed)  # as the CLI does, so the twin starts from the CLI's initial weights
    model = build_mlp(x.shape[1], recipe.hidden_sizes, dataset.num_classes, recipe.activations, recipe.dropout)
    twin = torch_twin(model)
    optimizer = torch_optimizer(recipe, twin)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=recipe.epochs)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    start, train_seconds = time.perf_counter(), 0.0
    for epoch in range(recipe.epochs):
        train_seconds += time_torch(twin, optimizer, x, y, recipe.batch_size, recipe.seed + epoch)
        schedule.step()
    twin.eval()
    with torch.no_grad():
        accuracy = (twin(x_test).argmax(dim=1) == y_test).double().mean().item()
    print(
        f"pytorch twin: test accuracy {accuracy:.2%} after {recipe.epochs} epoch(s): "
        f"{time.perf_counter() - start:.1f}s, {recipe.epochs * len(x) / train_seconds:,.0f} training samples/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="measurements per side (%(default)s)")
    parser.add_argument("--batches", type=int, default=200, help="training steps per measurement (%(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="BLAS / PyTorch threads (%(default)s)")
    parser.add_argument("--full-recipe", action="store_true", help="also train the whole recipe on each side")
    options = parser.parse_args()
    recipe = build_parser().parse_args(["mlp"])  # the defaults of `nnscratch mlp`

    torch.set_num_threads(options.threads)
    dataset = load_dataset(recipe.dataset)
    x, y = flatten(dataset, dataset.x_train), dataset.y_train
    samples = min(len(x), options.batches * recipe.batch_size)
    x, y = x[:samples], y[:samples]
    x_torch, y_torch = torch.from_numpy(x), torch.from_numpy(y)

    manual_seed(recipe.seed)
    model = build_mlp(x.shape[1], recipe.hidden_sizes, dataset.num_classes, recipe.activations, recipe.dropout)
    twin = torch_twin(model)
    optimizer = make_optimizer(
        recipe.optimizer, model.parameters(), recipe.lr, recipe.momentum, recipe.nesterov, recipe.weight_decay
    )
    trainer = Trainer(model, optimizer, quiet=True, seed=recipe.seed)
    twin_optimizer = torch_optimizer(recipe, twin)

    sizes = "-".join(str(size) for size in [x.shape[1], *recipe.hidden_sizes, dataset.num_classes])
    print(
        f"MLP {sizes}, {','.join(recipe.activations)}, dropout {recipe.dropout}, {recipe.optimizer} lr {recipe.lr:g}, "
        f"batch {recipe.batch_size}; {samples:,} {dataset.name} samples per measurement; {options.threads} threads; "
        f"torch {torch.__version__}, numpy {np.__version__}"
    )
    rates: dict[str, list[float]] = {"nnscratch": [], "pytorch": []}
    with threadpool_limits(limits=options.threads, user_api="blas"):
        time_nnscratch(trainer, x, y, recipe.batch_size)  # warm-up of both sides
        time_torch(twin, twin_optimizer, x_torch, y_torch, recipe.batch_size, 0)
        for round_index in range(options.rounds):
            settle()
            rates["nnscratch"].append(samples / time_nnscratch(trainer, x, y, recipe.batch_size))
            settle()
            rates["pytorch"].append(
                samples / time_torch(twin, twin_optimizer, x_torch, y_torch, recipe.batch_size, round_index)
            )
    for name, values in rates.items():
        print(summary(name, values))
    ratio = statistics.median(rates["nnscratch"]) / statistics.median(rates["pytorch"])
    print(f"ratio nnscratch / pytorch (medians): {ratio:.2f}x")
    if options.full_recipe:
        with threadpool_limits(limits=options.threads, user_api="blas"):
            settle()
            print("nnscratch mlp (defaults):", flush=True)
            nnscratch_main(["mlp", "--quiet"])
            settle()
            torch_full_recipe(recipe, dataset)


if __name__ == "__main__":
    main()
