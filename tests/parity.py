"""One layer against its PyTorch twin: the forward and every gradient, as pairs to compare or to tabulate.

The twin is what ``interop.torch.to_torch`` builds from the layer's ``torch_equivalent``: the
torch.nn class with the same arguments and a copy of the weights. So a parity check also
proves the layer's declared equivalent right.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnscratch.common.backend import to_cpu
from nnscratch.interop.torch import to_torch as torch_twin
from tests.support import RTOL_MODULE, assert_close, on_device, to_torch

ATOL = 1e-10


def torch_pairs(layer: Any, x: np.ndarray, seed: int = 1) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (ours, torch's) for y, dL/dx and dL/d<parameter> of each parameter, after one forward
    and backward of ``layer`` (float64, fresh gradients) and its twin on x with the same random dL/dy."""
    layer.zero_grad()
    y = layer.forward(on_device(x))
    upstream = np.random.default_rng(seed).standard_normal(y.shape)
    grad_x = layer.backward(on_device(upstream))
    twin = torch_twin(layer)
    tx = to_torch(x, True)
    ty = twin(tx)
    ty.backward(to_torch(upstream))
    pairs = {"y": (y, ty), "dL/dx": (grad_x, tx.grad)}
    ours = dict(layer.named_parameters())
    for name, parameter in twin.named_parameters():
        pairs[f"dL/d{name}"] = (ours[name].grad, parameter.grad)
    return {name: (np.asarray(to_cpu(a)), b.detach().numpy()) for name, (a, b) in pairs.items()}


def assert_matches_torch(layer: Any, x: np.ndarray, seed: int = 1) -> dict[str, float]:
    """``torch_pairs`` all within RTOL_MODULE and ATOL; returns the max abs difference of each."""
    pairs = torch_pairs(layer, x, seed)
    for name, (ours, reference) in pairs.items():
        assert_close(ours, reference, rtol=RTOL_MODULE, atol=ATOL, name=f"{layer!r} {name}")
    return {name: float(np.abs(ours - reference).max()) for name, (ours, reference) in pairs.items()}
