"""The smallest classifier: softmax regression (one linear layer) on Fashion-MNIST.

    python examples/softmax_regression.py [--epochs 5] [--data-dir DIR]

logits = x @ W + b; loss = cross-entropy(logits, y); the gradient of the mean loss with
respect to the logits is (softmax(logits) - onehot(y)) / N, so

    dW = x.T @ dlogits        db = dlogits.sum(axis=0)

and plain SGD follows it downhill. Everything else in nnscratch is this loop with more
layers in between.
"""

from __future__ import annotations

import argparse
import time

from nnscratch.common.backend import to_device, xp
from nnscratch.common.cross_entropy import CrossEntropyLoss
from nnscratch.common.datasets import load_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description="softmax regression on Fashion-MNIST")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--data-dir")
    args = parser.parse_args()

    data = load_dataset("fashion-mnist", args.data_dir)
    num_features = 28 * 28
    # flatten each (1, 28, 28) image into a row of 784 normalised pixels
    x_train = to_device(data.normalize(data.x_train).reshape(len(data.x_train), num_features))
    x_test = to_device(data.normalize(data.x_test).reshape(len(data.x_test), num_features))
    y_train, y_test = to_device(data.y_train), to_device(data.y_test)

    rng = xp.random.default_rng(0)
    weight = xp.zeros((num_features, data.num_classes), dtype=xp.float32)
    bias = xp.zeros(data.num_classes, dtype=xp.float32)
    loss_fn = CrossEntropyLoss()
    print(f"softmax regression on {data.name} ({len(y_train):,} training images from {data.location})")
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(len(y_train))
        for first in range(0, len(order), args.batch_size):
            batch = order[first : first + args.batch_size]
            logits = x_train[batch] @ weight + bias
            loss_fn.forward(logits, y_train[batch])
            grad_logits = loss_fn.backward()
            weight -= args.lr * (x_train[batch].T @ grad_logits)
            bias -= args.lr * grad_logits.sum(axis=0)
        train_loss = float(loss_fn.forward(x_train @ weight + bias, y_train))
        accuracy = float(((x_test @ weight + bias).argmax(axis=1) == y_test).mean())
        seconds = time.perf_counter() - start
        print(f"epoch {epoch}: train loss {train_loss:.4f}  test accuracy {accuracy:.2%}  ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
