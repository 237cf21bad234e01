"""Divergence: what the trainers of every tier raise when training produces NaN or infinity.

A learning rate that is too large makes the weights grow from step to step until the
network's outputs, and then the loss, overflow to infinity or turn into NaN (inf - inf,
0 * inf). From there every gradient and every update is NaN too: training cannot recover.
So the trainers stop at the first such batch with a ``NonFiniteLossError`` that says where.
"""

from __future__ import annotations


class NonFiniteLossError(RuntimeError):
    """Training diverged: the loss (or the network's output) became NaN or infinite."""


def divergence_message(epoch: int, batch: int, num_batches: int, what: str, lr: float) -> str:
    """Where training diverged, e.g. "training diverged at epoch 3, batch 5 of 844: the loss
    became NaN or infinite (learning rate 0.1)".

    batch: the 0-based index of the failing batch (said 1-based); what: what went non-finite.
    """
    return (
        f"training diverged at epoch {epoch}, batch {batch + 1} of {num_batches}: {what} became "
        f"NaN or infinite (learning rate {lr:g})"
    )
