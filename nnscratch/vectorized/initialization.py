"""PyTorch's default initialisation of a layer's weight and bias, one helper for every layer.

``torch.nn.Linear`` and ``torch.nn.Conv2d`` draw both from U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
fan_in being the inputs one output sums over: ``in_features`` for Linear, C*kh*kw for a
convolution (C per filter: 1 for a depthwise one). (Kaiming-uniform with a = sqrt(5), He et al.
2015, works out to exactly this bound.) ``torch.nn.ConvTranspose2d`` takes the same bound from
its weight (C_in, F/g, kh, kw), fan_in F/g*kh*kw, though its bias has F values, not C_in.
"""

from __future__ import annotations

import math

from ..common.backend import to_device
from ..common.seed import new_generator
from .module import Parameter


def default_parameters(
    weight_shape: tuple[int, ...], bias: bool, seed: int | None, bias_size: int | None = None
) -> tuple:
    """(weight, bias or None) as Parameters, float32: weight of ``weight_shape`` (out, ...), bias (out,).

    fan_in = prod(weight_shape[1:]). Drawn on the CPU from a generator seeded by ``seed``, weight
    first, then moved to the active device, so a seed gives the same layer on NumPy and CuPy.
    ``bias_size``: the bias's length where it is not weight_shape[0] (a transposed convolution).
    """
    rng = new_generator(seed)
    bound = 1.0 / math.sqrt(math.prod(weight_shape[1:]))

    def draw(shape: tuple[int, ...]) -> Parameter:
        return Parameter(to_device(rng.uniform(-bound, bound, shape), "float32"))

    weight = draw(weight_shape)
    return weight, (draw((bias_size or weight_shape[0],)) if bias else None)
