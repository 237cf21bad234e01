"""Shared test helpers: PyTorch as the reference, and hypothesis strategies for shapes.

Every parity test follows one pattern: draw shapes and values with hypothesis, run the same
float64 numbers through nnscratch and through PyTorch, compare value and every gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nnscratch.common.backend import to_cpu, to_device

torch.set_default_dtype(torch.float64)

# Parity tolerances (float64 on both sides): the issues ask for these.
RTOL_EXACT = 1e-10
RTOL_MODULE = 1e-7


def to_torch(array: Any, requires_grad: bool = False) -> torch.Tensor:
    """A float64/int64 torch tensor holding a copy of ``array`` (NumPy or CuPy)."""
    tensor = torch.from_numpy(np.array(to_cpu(array)))
    return tensor.requires_grad_(requires_grad) if requires_grad else tensor


def randomize_statistics(model: Any, seed: int) -> None:
    """Non-trivial running statistics, so that eval-mode parity checks them too."""
    rng = np.random.default_rng(seed)
    for name, buffer in model.named_buffers():
        if name.endswith("running_mean"):
            buffer[...] = rng.uniform(-0.3, 0.3, buffer.shape)
        elif name.endswith("running_var"):
            buffer[...] = rng.uniform(0.5, 2.0, buffer.shape)


def on_device(*arrays: Any) -> Any:
    """``arrays`` on the active backend (one array, or a tuple of them): what a ``backend`` spec feeds its layers."""
    moved = tuple(to_device(array) for array in arrays)
    return moved[0] if len(moved) == 1 else moved


def assert_close(ours: Any, reference: Any, rtol: float = RTOL_EXACT, atol: float = 1e-12, name: str = "") -> None:
    """Element-wise ``|ours - reference| <= atol + rtol * |reference|`` with a readable failure."""
    if isinstance(reference, torch.Tensor):
        reference = reference.detach().numpy()
    ours = np.asarray(to_cpu(ours))
    assert ours.shape == reference.shape, f"{name}: shape {ours.shape} != reference {reference.shape}"
    np.testing.assert_allclose(ours, reference, rtol=rtol, atol=atol, err_msg=name)


# ----------------------------------------------------------------------------- strategies


def shapes(min_dims: int = 1, max_dims: int = 4, min_side: int = 1, max_side: int = 6) -> st.SearchStrategy:
    """Array shapes with ``min_dims..max_dims`` axes of length ``min_side..max_side``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def float_arrays(shape: Any, scale: float = 3.0, dtype: Any = np.float64) -> st.SearchStrategy:
    """Arrays of ``shape`` with finite values in [-scale, scale] (shape may itself be a strategy)."""
    elements = st.floats(-scale, scale, allow_nan=False, allow_infinity=False, width=64)
    return hnp.arrays(dtype, shape, elements=elements)


def seeds() -> st.SearchStrategy:
    """A seed for ``np.random.default_rng``: draw random tensors from it instead of via hypothesis
    when the values don't matter, only the shapes (much faster for large arrays)."""
    return st.integers(0, 2**32 - 1)
