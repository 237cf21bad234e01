"""The checks of the vectorized layers' exercises: Linear, ReLU and GELU, Dropout, BatchNorm1D.

Each takes the learner's module (the file ``exercises start`` wrote, as they left it) and raises
``Mismatch`` at the first difference from the library, or whatever the learner's code raises.
"""

from __future__ import annotations

from types import ModuleType

from ..common.backend import to_cpu
from ..vectorized import modules as library
from .compare import expect, expect_close
from .layer_pair import (
    expect_central_differences,
    expect_layers_agree,
    expect_same_layer,
    random_array,
    same_parameters,
)


def check_linear(learner: ModuleType) -> None:
    cases = [((4, 3), {}, (5, 4)), ((6, 1), {"bias": False}, (2, 6)), ((1, 7), {}, (3, 1))]
    expect_layers_agree(library.Linear, learner.Linear, cases)


def check_activations(learner: ModuleType) -> None:
    expect_layers_agree(library.ReLU, learner.ReLU, [((), {}, (4, 5)), ((), {}, (2, 3, 4))])
    gelus = [((), {}, (4, 5)), ((), {"approximate": "tanh"}, (2, 3, 4))]
    expect_layers_agree(library.GELU, learner.GELU, gelus)


def check_dropout(learner: ModuleType) -> None:
    """Masks are random, so Dropout is checked by what any correct mask must satisfy, not element by element."""
    p = 0.3
    layer = learner.Dropout(p, seed=0)
    x = random_array((200, 50), seed=0)
    y = to_cpu(layer.forward(x.copy()))
    x = to_cpu(x)
    kept = y != 0
    expect_close("Dropout(p=0.3): the values kept (x / (1 - p))", x[kept] / (1 - p), y[kept])
    dropped = 1 - kept.mean()
    expect(abs(dropped - p) < 0.03, f"Dropout(p=0.3) dropped {dropped:.1%} of 10000 values; expected about 30%")
    grad_out = random_array(y.shape, seed=1)
    expect_close(
        "Dropout(p=0.3): dL/dx (grad_out times the same mask)", to_cpu(grad_out) * y / x, layer.backward(grad_out)
    )
    second = to_cpu(layer.forward(random_array((200, 50), seed=0)))
    expect(
        bool(((second != 0) != kept).any()), "Dropout(p=0.3): two forwards drew the same mask; draw a new one each time"
    )
    layer.eval()
    expect_close(
        "Dropout in eval mode: the forward output (x itself)", x, layer.forward(random_array((200, 50), seed=0))
    )
    expect_close("Dropout in eval mode: dL/dx (grad_out itself)", to_cpu(grad_out), layer.backward(grad_out))
    identity = learner.Dropout(0.0, seed=0)
    expect_close("Dropout(p=0.0): the forward output (x itself)", x, identity.forward(random_array((200, 50), seed=0)))


def check_batchnorm(learner: ModuleType) -> None:
    cases = [((4,), {}, (6, 4)), ((3,), {"eps": 1e-3}, (5, 3, 4))]
    expect_layers_agree(library.BatchNorm1D, learner.BatchNorm1D, cases)
    # eval mode: the running statistics of one training batch stand in for the batch's own
    library_layer, learner_layer = library.BatchNorm1D(3), learner.BatchNorm1D(3)
    same_parameters(library_layer, learner_layer, seed=7)
    for layer in (library_layer, learner_layer):
        layer.forward(random_array((8, 3), seed=7))
        layer.eval()
    x = random_array((5, 3), seed=8)
    expect_same_layer("BatchNorm1D(3) in eval mode", library_layer, learner_layer, x, seed=8)
    expect_central_differences("BatchNorm1D(3) in eval mode", learner_layer, x)
