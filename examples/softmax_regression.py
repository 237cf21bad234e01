"""Lesson 0: the smallest classifier, softmax regression (one linear layer), forward and backward by hand.

    python examples/softmax_regression.py                       # the bundled sample, a few seconds
    python examples/softmax_regression.py --dataset fashion-mnist --epochs 5

Each image becomes a row x of 784 pixels, and one matrix multiply gives 10 scores, the logits:

    forward    logits = x @ W + b                  x: (N, 784), W: (784, 10), b: (10,) -> (N, 10)
               p = softmax(logits)                 each row: 10 probabilities summing to 1
               loss = mean over the batch of -log p[label]
    backward   dlogits = (p - onehot(label)) / N   the gradient of softmax + cross-entropy, see
                                                   docs/concepts/backprop.md for the derivation
               dW = x.T @ dlogits                  a multiply: W's gradient uses the input x
               db = dlogits.sum(axis=0)            an add: b gets the gradient of every sample
    update     W -= lr * dW,  b -= lr * db         plain SGD: a small step downhill

Everything else in nnscratch is this loop with more layers between x and the logits.
"""

from __future__ import annotations

import argparse
import math
import time

from nnscratch.common.backend import get_array_module, to_device, xp
from nnscratch.common.datasets import load_dataset
from nnscratch.common.softmax import log_softmax, softmax


def forward(x, weight, bias):
    """logits (N, 10) = x (N, 784) @ weight (784, 10) + bias (10,)."""
    return x @ weight + bias


def loss_and_grad(logits, labels):
    """Mean cross-entropy of logits (N, C) against class indices (N,), and its gradient (N, C)."""
    xp = get_array_module(logits)
    rows = xp.arange(len(labels))
    # log_softmax, not log(softmax): a confident wrong answer would give log(0) = -inf
    loss = -log_softmax(logits, axis=1)[rows, labels].mean()
    grad = softmax(logits, axis=1)
    grad[rows, labels] -= 1.0  # p - onehot(label), without building the one-hot matrix
    return float(loss), grad / len(labels)  # the loss is a mean, so its gradient carries 1/N


def backward(x, grad_logits):
    """dW (784, 10) = x.T @ dlogits, since each weight multiplied a pixel; db (10,) = dlogits summed over the batch."""
    return x.T @ grad_logits, grad_logits.sum(axis=0)


def accuracy(x, labels, weight, bias):
    return float((forward(x, weight, bias).argmax(axis=1) == labels).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description="softmax regression on Fashion-MNIST, forward and backward by hand")
    parser.add_argument("--dataset", default="sample", help="sample (bundled, 1,500 images) or fashion-mnist")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--data-dir", help="a folder holding the dataset")
    args = parser.parse_args()
    if args.epochs < 1 or args.batch_size < 1 or not args.lr > 0:
        parser.error(
            f"--epochs and --batch-size must be >= 1 and --lr > 0, got {args.epochs}, {args.batch_size}, {args.lr}"
        )

    data = load_dataset(args.dataset, args.data_dir)
    num_features = math.prod(data.image_shape)
    # each (1, 28, 28) image flattened into a row of 784 pixels, normalised to mean 0, std 1
    x_train = to_device(data.normalize(data.x_train).reshape(len(data.x_train), num_features))
    x_test = to_device(data.normalize(data.x_test).reshape(len(data.x_test), num_features))
    y_train, y_test = to_device(data.y_train), to_device(data.y_test)

    # zeros are a fine start here: with one layer there is no symmetry between hidden units to break
    weight = xp.zeros((num_features, data.num_classes), dtype=xp.float32)
    bias = xp.zeros(data.num_classes, dtype=xp.float32)
    print(f"softmax regression on {data.name}: {len(y_train):,} training and {len(y_test):,} test images")
    print(f"{num_features} pixels -> {data.num_classes} classes: {weight.size + bias.size:,} parameters")
    loss, _ = loss_and_grad(forward(x_train, weight, bias), y_train)
    chance = 1 / data.num_classes
    print(
        f"before training: loss {loss:.4f} (= log {data.num_classes}: every class equally likely), "
        f"test accuracy {accuracy(x_test, y_test, weight, bias):.1%} (guessing: {chance:.0%})"
    )
    rng = xp.random.default_rng(0)
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(len(y_train))  # a new order each epoch
        for first in range(0, len(order), args.batch_size):
            batch = order[first : first + args.batch_size]
            x = x_train[batch]
            _, grad_logits = loss_and_grad(forward(x, weight, bias), y_train[batch])
            grad_weight, grad_bias = backward(x, grad_logits)
            weight -= args.lr * grad_weight
            bias -= args.lr * grad_bias
        loss, _ = loss_and_grad(forward(x_train, weight, bias), y_train)
        seconds = time.perf_counter() - start
        print(
            f"epoch {epoch:2d}: train loss {loss:.4f}  test accuracy "
            f"{accuracy(x_test, y_test, weight, bias):.1%}  ({seconds:.2f} s)"
        )


if __name__ == "__main__":
    main()
