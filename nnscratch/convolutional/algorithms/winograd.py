"""Winograd's minimal filtering: a 3x3, stride-1 convolution with fewer multiplications.

im2col spends 9 multiplications per input channel on every output pixel. Winograd's minimal
filtering algorithm (Winograd 1980; for convolutional networks, Lavin & Gray 2015) computes an
m x m block of outputs from the (m + 2) x (m + 2) input tile under it with (m + 2)^2
multiplications per channel, paying with additions that do not depend on the channel count.
For F(2x2, 3x3) that is 16 multiplications instead of 2*2*9 = 36:

    Y = A^T [ (G g G^T) * (B^T d B) ] A        d: 4x4 input tile, g: 3x3 filter, Y: 2x2 outputs

where * is elementwise and the three small matrices are fixed (below). Read it as a change
of basis: B^T d B and G g G^T move the tile and the filter into a space where convolving is
an elementwise product, and A^T (...) A moves the 16 products back to the 2x2 outputs. The
algebra is exact, so Y is the convolution itself (up to rounding). F(4x4, 3x3) is the same
with 6x6 tiles: 36 multiplications for 16 outputs instead of 144.

For a layer (C input channels, F filters), one output tile sums over the channels:
M[f] = sum_c U[f, c] * V[c], with U = G g G^T, V = B^T d B. For each of the (m + 2)^2
positions p of the transformed tile, that sum over c is a matrix product across all tiles:

    M[p] (tiles, F) = V[p] (tiles, C) @ U[p]^T (C, F)          (m + 2)^2 products, batched

which is where the time goes. The transforms are small fixed matrices applied to every tile,
so they are matrix products too: with vec() reading a tile row by row,
vec(B^T d B) = (B^T kron B^T) vec(d), one (16, 16) matrix (F2) times all the tiles' columns.

Backward is the chain rule through the same three steps, each of them linear:

    dM = A dY A^T                  dU[p] = dM[p]^T @ V[p]       dV[p] = dM[p] @ U[p]
    dL/dg = G^T dU G               dL/dd = B dV B^T, added back onto the overlapping tiles

so it too is one batch of products in each direction plus transforms: three sets of
products, as im2col has three, each smaller by the same factor.

Layout: the tiles are cut from a channels-last copy of the padded input, (N, Hp, Wp, C), so
that copying a tile position for every tile moves runs of C contiguous numbers, and every
product has the channels as its contiguous axis. Tiles step by m (they overlap by 2 pixels,
the kernel's reach), covering an output of (m*th, m*tw); when m does not divide the output
size the last tiles get extra zero padding, and the extra outputs are dropped.

The numbers: larger tiles save more multiplications and lose more digits to the transforms'
larger coefficients. In float32, F(4x4, 3x3) differs from a direct convolution by about 1e-5
of the output's scale (F(2x2, 3x3): about 1e-6), far below what training notices; in float64
both agree with it to ~1e-13.

The route ``"winograd"``: 3x3 kernels, stride 1; ``algorithm="auto"`` takes it from
``WINOGRAD_MIN_CHANNELS`` input channels on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

from ...common.backend import get_array_module
from ...vectorized.module import grad_enabled
from ...vectorized.per_channel import per_channel
from .route import STRIDE_ONE, Route, stride_one
from .slices import batch_slices

# With fewer input channels the transforms outweigh the multiplications saved; from 32 on, layers
# and whole models trained faster than with im2col (docs/performance.md).
WINOGRAD_MIN_CHANNELS = 32


class Winograd(NamedTuple):
    """One variant F(m x m, 3x3): m x m outputs from each (m + 2) x (m + 2) input tile.

    input_transform B^T: (m + 2, m + 2); filter_transform G: (m + 2, 3); output_transform A^T:
    (m, m + 2). Tiles step by m and overlap by 2 pixels (the 3x3 kernel's reach).
    """

    outputs: int
    input_transform: tuple
    filter_transform: tuple
    output_transform: tuple

    @property
    def tile(self) -> int:
        return self.outputs + 2


# The transforms of Lavin & Gray 2015 (section 4.1 and 4.2), found by the Chinese remainder
# theorem from the interpolation points 0, 1, -1 (F2) and 0, 1, -1, 2, -2 (F4), plus infinity.
F2 = Winograd(
    outputs=2,
    input_transform=((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1)),
    filter_transform=((1, 0, 0), (1 / 2, 1 / 2, 1 / 2), (1 / 2, -1 / 2, 1 / 2), (0, 0, 1)),
    output_transform=((1, 1, 1, 0), (0, 1, -1, -1)),
)
F4 = Winograd(
    outputs=4,
    input_transform=(
        (4, 0, -5, 0, 1, 0),
        (0, -4, -4, 1, 1, 0),
        (0, 4, -4, -1, 1, 0),
        (0, -2, -1, 2, 1, 0),
        (0, 2, -1, -2, 1, 0),
        (0, 4, 0, -5, 0, 1),
    ),
    filter_transform=(
        (1 / 4, 0, 0),
        (-1 / 6, -1 / 6, -1 / 6),
        (-1 / 6, 1 / 6, -1 / 6),
        (1 / 24, 1 / 12, 1 / 6),
        (1 / 24, -1 / 12, 1 / 6),
        (0, 0, 1),
    ),
    output_transform=((1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1)),
)


def choose_variant(out_size: tuple[int, int]) -> Winograd:
    """The variant with fewer multiplications for an (H', W') output; F2 on a tie (smaller transforms).

    A variant spends (m + 2)^2 multiplications per tile and needs ceil(H'/m) * ceil(W'/m) tiles:
    at 28x28, F2 needs 16 * 196 = 3136 per channel pair and F4 36 * 49 = 1764; at 2x2, F2 16, F4 36.
    """

    def multiplications(variant: Winograd) -> int:
        th, tw = tile_grid(out_size, variant)
        return variant.tile**2 * th * tw

    return F4 if multiplications(F4) < multiplications(F2) else F2


def tile_transform(matrix: tuple, xp: Any, dtype: Any) -> Any:
    """The transform T X T^T of every tile X as one matrix on vec(X): kron(T, T).

    matrix: T (r, s) -> (r*r, s*s), since vec(T X T^T) = kron(T, T) vec(X) for row-major vec.
    Built once per matrix, array module and dtype, and shared by every call after (read-only
    on the CPU): on a GPU, building it would be a copy from the host and a wait at every call.
    """
    return _kron_square(matrix, xp, xp.dtype(dtype).name)


@cache
def _kron_square(matrix: tuple, xp: Any, dtype_name: str) -> Any:
    small = xp.asarray(matrix, dtype=dtype_name)
    product = xp.kron(small, small)
    if hasattr(product.flags, "writeable"):
        product.flags.writeable = False  # NumPy: a shared array, which nobody may change
    return product


def tile_grid(out_size: tuple[int, int], variant: Winograd) -> tuple[int, int]:
    """(th, tw): how many m x m output tiles cover an (H', W') output, rounding up."""
    m = variant.outputs
    return -(-out_size[0] // m), -(-out_size[1] // m)


def channels_last_padded(x: Any, padding: tuple[int, int], tiles: tuple[int, int], variant: Winograd) -> Any:
    """x (N, C, H, W) -> (N, m*th + 2, m*tw + 2, C): zero-padded and channels last, in one copy.

    The top and left get ``padding``; the bottom and right whatever the tiles need: ``padding``
    when m divides the output size, and the rows or columns the last tile lacks otherwise.
    """
    xp = get_array_module(x)
    n, channels, height, width = x.shape
    (ph, pw), (th, tw), m = padding, tiles, variant.outputs
    padded = xp.zeros((n, m * th + 2, m * tw + 2, channels), dtype=x.dtype)
    padded[:, ph : ph + height, pw : pw + width, :] = x.transpose(0, 2, 3, 1)
    return padded


def transformed_tiles(padded: Any, tiles: tuple[int, int], variant: Winograd) -> Any:
    """V = B^T d B for every (m + 2) x (m + 2) tile d of a channels-last padded batch.

    padded: (n, m*th + 2, m*tw + 2, C) -> V: (a*a, n*th*tw, C) with a = m + 2; V[p] holds
    position p of the transformed tile, for every tile (n, ty, tx) in order, every channel.
    """
    xp = get_array_module(padded)
    n, channels = padded.shape[0], padded.shape[3]
    (th, tw), m, a = tiles, variant.outputs, variant.tile
    # gather: position (i, j) of tile (ty, tx) is pixel (m*ty + i, m*tx + j), a strided slice
    gathered = xp.empty((a, a, n, th, tw, channels), dtype=padded.dtype)
    for i in range(a):
        for j in range(a):
            gathered[i, j] = padded[:, i : i + m * th : m, j : j + m * tw : m, :]
    transform = tile_transform(variant.input_transform, xp, padded.dtype)  # (a*a, a*a)
    return (transform @ gathered.reshape(a * a, -1)).reshape(a * a, n * th * tw, channels)


def add_tile_gradients(grad_transformed: Any, grad_padded: Any, tiles: tuple[int, int], variant: Winograd) -> Any:
    """The adjoint of ``transformed_tiles``: dL/dd = B dV B^T, added onto the tiles' pixels.

    grad_transformed: dV (a*a, n*th*tw, C); grad_padded: (n, m*th + 2, m*tw + 2, C), added to
    in place. Neighbouring tiles share two rows or columns, so one pixel collects up to four
    terms; position (i, j) of every tile is one strided slice, and within it no two tiles meet.
    """
    xp = get_array_module(grad_transformed)
    n, channels = grad_padded.shape[0], grad_padded.shape[3]
    (th, tw), m, a = tiles, variant.outputs, variant.tile
    transform = tile_transform(variant.input_transform, xp, grad_transformed.dtype)
    grad_tiles = (transform.T @ grad_transformed.reshape(a * a, -1)).reshape(a, a, n, th, tw, channels)
    for i in range(a):
        for j in range(a):
            grad_padded[:, i : i + m * th : m, j : j + m * tw : m, :] += grad_tiles[i, j]
    return grad_padded


def transformed_filters(weight: Any, variant: Winograd) -> Any:
    """U = G g G^T for every 3x3 filter g: weight (F, C, 3, 3) -> U (a*a, F, C)."""
    xp = get_array_module(weight)
    filters, channels = weight.shape[:2]
    transform = tile_transform(variant.filter_transform, xp, weight.dtype)  # (a*a, 9)
    return (transform @ weight.reshape(filters * channels, 9).T).reshape(-1, filters, channels)


def filter_gradient(grad_transformed: Any, variant: Winograd) -> Any:
    """The adjoint of ``transformed_filters``: dU (a*a, F, C) -> dL/dg = G^T dU G, (F, C, 3, 3)."""
    xp = get_array_module(grad_transformed)
    positions, filters, channels = grad_transformed.shape
    transform = tile_transform(variant.filter_transform, xp, grad_transformed.dtype)  # (a*a, 9)
    # (F*C, a*a) @ (a*a, 9) lands in the weight's own layout; BLAS reads the transposed operand as is
    return (grad_transformed.reshape(positions, -1).T @ transform).reshape(filters, channels, 3, 3)


def write_output_tiles(products: Any, out: Any, variant: Winograd) -> None:
    """Y = A^T M A for every tile, written into its m x m block of the output.

    products: M (a*a, n*th*tw, F); out: (n, F, m*th, m*tw), which every tile fills exactly once.
    """
    xp = get_array_module(products)
    n, filters, height, width = out.shape
    m = variant.outputs
    th, tw = height // m, width // m
    transform = tile_transform(variant.output_transform, xp, products.dtype)  # (m*m, a*a)
    blocks = (transform @ products.reshape(products.shape[0], -1)).reshape(m, m, n, th, tw, filters)
    # out[n, f, m*ty + i, m*tx + j] = blocks[i, j, n, ty, tx, f]
    out.reshape(n, filters, th, m, tw, m)[...] = blocks.transpose(2, 5, 3, 0, 4, 1)


def output_tile_gradients(grad_out: Any, tiles: tuple[int, int], variant: Winograd) -> Any:
    """The adjoint of ``write_output_tiles``: dM = A dY A^T for every tile.

    grad_out: dY (n, F, H', W') -> dM (a*a, n*th*tw, F). An output size m does not divide is
    padded with zeros to the tiles' (m*th, m*tw): those outputs were dropped, their gradient is zero.
    """
    xp = get_array_module(grad_out)
    n, filters, out_h, out_w = grad_out.shape
    (th, tw), m, a = tiles, variant.outputs, variant.tile
    if (out_h, out_w) != (m * th, m * tw):
        full = xp.zeros((n, filters, m * th, m * tw), dtype=grad_out.dtype)
        full[:, :, :out_h, :out_w] = grad_out
        grad_out = full
    blocks = xp.empty((m, m, n, th, tw, filters), dtype=grad_out.dtype)
    blocks[...] = grad_out.reshape(n, filters, th, m, tw, m).transpose(3, 5, 0, 2, 4, 1)
    transform = tile_transform(variant.output_transform, xp, grad_out.dtype)  # (m*m, a*a)
    return (transform.T @ blocks.reshape(m * m, -1)).reshape(a * a, n * th * tw, filters)


# ----------------------------------------------------------------------------- the convolution


def winograd_forward(
    x: Any,
    weight: Any,
    padding: tuple[int, int],
    slices_for: Callable[[int, int], list[slice]],
    variant: Winograd = F2,
    keep: bool = True,
) -> tuple[Any, tuple]:
    """y = conv2d(x, weight, stride 1, padding), by Winograd's ``variant``; no bias.

    x: (N, C, H, W), weight: (F, C, 3, 3) -> y: (N, F, H + 2ph - 2, W + 2pw - 2), and what
    ``winograd_backward`` needs (None when ``keep`` is False: no backward will follow, and
    only one slice's V exists at a time). ``slices_for(N, bytes per sample of V)`` splits the
    batch (``slices.batch_slices``) so that each slice's transforms stay in the CPU's cache.
    Backward needs every slice's V again, so forward keeps them: (m + 2)^2 / m^2 times the
    input's size, which spares backward the input transform.
    """
    xp = get_array_module(x)
    n, channels, height, width = x.shape
    out_size = (height + 2 * padding[0] - 2, width + 2 * padding[1] - 2)
    tiles, m, positions = tile_grid(out_size, variant), variant.outputs, variant.tile**2
    padded = channels_last_padded(x, padding, tiles, variant)
    filters_t = transformed_filters(weight, variant)  # U: (a*a, F, C)
    y = xp.empty((n, weight.shape[0], m * tiles[0], m * tiles[1]), dtype=x.dtype)
    slices = slices_for(n, positions * tiles[0] * tiles[1] * channels * x.itemsize)
    kept = []
    for batch in slices:
        inputs_t = transformed_tiles(padded[batch], tiles, variant)  # V: (a*a, tiles, C)
        products = xp.matmul(inputs_t, filters_t.transpose(0, 2, 1))  # M: (a*a, tiles, F)
        write_output_tiles(products, y[batch], variant)
        if keep:
            kept.append(inputs_t)
    if y.shape[2:] != out_size:  # m does not divide the output size: drop the extra outputs
        y = xp.ascontiguousarray(y[:, :, : out_size[0], : out_size[1]])
    return y, ((padded.shape, filters_t, slices, kept, x.shape, padding, variant) if keep else None)


def winograd_backward(grad_out: Any, saved: tuple, needs_input_grad: bool = True) -> tuple[Any, Any]:
    """(dL/dweight (F, C, 3, 3), dL/dx (N, C, H, W) or None) from dY (N, F, H', W') and ``saved``.

    The batch goes through in the forward's slices, each with the V forward kept for it.
    """
    xp = get_array_module(grad_out)
    padded_shape, filters_t, slices, kept, x_shape, (ph, pw), variant = saved
    _, _, height, width = x_shape
    tiles = tile_grid(grad_out.shape[2:], variant)
    grad_filters_t = None  # dU: (a*a, F, C), summed over the batch slices
    grad_padded = xp.zeros(padded_shape, dtype=grad_out.dtype) if needs_input_grad else None
    for batch, inputs_t in zip(slices, kept, strict=True):
        grad_products = output_tile_gradients(grad_out[batch], tiles, variant)  # dM: (a*a, tiles, F)
        slice_grad = xp.matmul(grad_products.transpose(0, 2, 1), inputs_t)
        if grad_filters_t is None:
            grad_filters_t = slice_grad
        else:
            grad_filters_t += slice_grad
        if grad_padded is not None:
            grad_inputs_t = xp.matmul(grad_products, filters_t)  # dV: (a*a, tiles, C)
            add_tile_gradients(grad_inputs_t, grad_padded[batch], tiles, variant)
    grad_weight = filter_gradient(grad_filters_t, variant)
    if grad_padded is None:
        return grad_weight, None
    grad_x = grad_padded[:, ph : ph + height, pw : pw + width, :].transpose(0, 3, 1, 2)
    return grad_weight, xp.ascontiguousarray(grad_x)


# ----------------------------------------------------------------------------- the route


def applies(layer: Any, input_shape: tuple[int, ...]) -> bool:
    """The transforms are those of a 3x3 kernel, and tiles step one pixel at a time: stride 1 (plain taps)."""
    return layer.kernel_size == (3, 3) and stride_one(layer, input_shape)


def pays_off(layer: Any, input_shape: tuple[int, ...]) -> bool:
    """Enough input channels that the products outweigh the transforms: see ``WINOGRAD_MIN_CHANNELS``."""
    return layer.in_channels >= WINOGRAD_MIN_CHANNELS


def forward(layer: Any, x: Any) -> tuple[Any, Any]:
    """The layer's convolution of x (N, C, H, W) by the variant with fewer multiplications, plus the bias."""
    height, width = x.shape[2] + 2 * layer.padding[0] - 2, x.shape[3] + 2 * layer.padding[1] - 2
    variant = choose_variant((height, width))
    y, saved = winograd_forward(x, layer.weight.data, layer.padding, batch_slices, variant, grad_enabled())
    if layer.bias is not None:
        y += per_channel(layer.bias.data, y.shape)
    return y, saved


def backward(layer: Any, saved: Any, grad_out: Any) -> Any:
    """Adds dL/dW into ``layer.weight.grad``; returns dL/dx (None when the layer needs none)."""
    grad_weight, grad_x = winograd_backward(grad_out, saved, layer.needs_input_grad)
    layer.weight.grad += grad_weight
    return grad_x


ROUTE = Route("winograd", f"a 3x3 kernel, {STRIDE_ONE}", applies, pays_off, forward, backward)
