"""Winograd's F(2x2, 3x3): a 3x3, stride-1 convolution with 2.25 times fewer multiplications.

im2col spends 9 multiplications per input channel on every output pixel. Winograd's minimal
filtering algorithm (Winograd 1980; for convolutional networks, Lavin & Gray 2015) computes a
2x2 block of outputs from the 4x4 input tile under it with 16 multiplications per channel
instead of 2*2*9 = 36, paying with additions that do not depend on the channel count:

    Y = A^T [ (G g G^T) * (B^T d B) ] A        d: 4x4 input tile, g: 3x3 filter, Y: 2x2 outputs

where * is elementwise and the three small matrices are fixed (below). Read it as a change
of basis: B^T d B and G g G^T move the tile and the filter into a space where convolving is
an elementwise product, and A^T (...) A moves the 16 products back to the 2x2 outputs. The
algebra is exact, so Y is the convolution itself (up to rounding).

For a layer (C input channels, F filters), one output tile sums over the channels:
M[f] = sum_c U[f, c] * V[c], with U = G g G^T, V = B^T d B. For each of the 16 positions p
of the 4x4 transformed tile, that sum over c is a matrix product across all tiles at once:

    M[p] (tiles, F) = V[p] (tiles, C) @ U[p]^T (C, F)          16 products, batched

which is where the time goes: 16 * tiles * C * F multiply-adds, against 36 * tiles * C * F
for im2col's one product. The transforms are small fixed matrices applied to every tile, so
they are matrix products too: with vec() reading a 4x4 tile row by row,
vec(B^T d B) = (B^T kron B^T) vec(d), a (16, 16) matrix times all the tiles' columns.

Backward is the chain rule through the same three steps, each of them linear:

    dM = A dY A^T                  dU[p] = dM[p]^T @ V[p]       dV[p] = dM[p] @ U[p]
    dL/dg = G^T dU G               dL/dd = B dV B^T, added back onto the overlapping tiles

so it too is 16 batched products in each direction plus transforms: three sets of products,
as im2col has three, each 2.25 times smaller.

Layout: the tiles are cut from a channels-last copy of the padded input, (N, Hp, Wp, C), so
that copying a tile position for every tile moves runs of C contiguous numbers, and every
product has the channels as its contiguous axis. Tiles step by 2 (they overlap by 2 pixels:
a 2x2 output needs the 4x4 input under it), covering an output of (2*th, 2*tw); an odd
output size gets one extra row or column of zero padding, and the extra output is dropped.

The numbers: F(2x2, 3x3) is the variant with the smallest transforms; its error in float32
is close to direct convolution's (larger tiles, F(4x4, 3x3), save more and lose more digits).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..common.backend import get_array_module

# The three transforms of F(2x2, 3x3) (Lavin & Gray 2015, section 4.1).
INPUT_TRANSFORM = ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1))  # B^T: (4, 4)
FILTER_TRANSFORM = ((1, 0, 0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0, 0, 1))  # G: (4, 3)
OUTPUT_TRANSFORM = ((1, 1, 1, 0), (0, 1, -1, -1))  # A^T: (2, 4)


def tile_transform(matrix: tuple, xp: Any, dtype: Any) -> Any:
    """The transform T X T^T of every tile X as one matrix on vec(X): kron(T, T).

    matrix: T (r, s) -> (r*r, s*s), since vec(T X T^T) = kron(T, T) vec(X) for row-major vec.
    """
    small = xp.asarray(matrix, dtype=dtype)
    return xp.kron(small, small)


def tile_grid(out_size: tuple[int, int]) -> tuple[int, int]:
    """(th, tw): how many 2x2 output tiles cover an (H', W') output, rounding up."""
    return (out_size[0] + 1) // 2, (out_size[1] + 1) // 2


def channels_last_padded(x: Any, padding: tuple[int, int], tiles: tuple[int, int]) -> Any:
    """x (N, C, H, W) -> (N, 2*th + 2, 2*tw + 2, C): zero-padded and channels last, in one copy.

    The top and left get ``padding``; the bottom and right whatever the tiles need, which is
    ``padding`` for an even output size and one more row or column for an odd one.
    """
    xp = get_array_module(x)
    n, channels, height, width = x.shape
    (ph, pw), (th, tw) = padding, tiles
    padded = xp.zeros((n, 2 * th + 2, 2 * tw + 2, channels), dtype=x.dtype)
    padded[:, ph : ph + height, pw : pw + width, :] = x.transpose(0, 2, 3, 1)
    return padded


def transformed_tiles(padded: Any, tiles: tuple[int, int]) -> Any:
    """V = B^T d B for every 4x4 tile d of a channels-last padded batch.

    padded: (n, 2*th + 2, 2*tw + 2, C) -> V: (16, n*th*tw, C); V[p] holds position p of the
    transformed tile, for every tile (n, ty, tx) in order, every channel.
    """
    xp = get_array_module(padded)
    n, channels = padded.shape[0], padded.shape[3]
    th, tw = tiles
    # gather: position (i, j) of tile (ty, tx) is pixel (2*ty + i, 2*tx + j), a strided slice
    gathered = xp.empty((4, 4, n, th, tw, channels), dtype=padded.dtype)
    for i in range(4):
        for j in range(4):
            gathered[i, j] = padded[:, i : i + 2 * th : 2, j : j + 2 * tw : 2, :]
    transform = tile_transform(INPUT_TRANSFORM, xp, padded.dtype)  # (16, 16)
    return (transform @ gathered.reshape(16, -1)).reshape(16, n * th * tw, channels)


def add_tile_gradients(grad_transformed: Any, grad_padded: Any, tiles: tuple[int, int]) -> Any:
    """The adjoint of ``transformed_tiles``: dL/dd = B dV B^T, added onto the tiles' pixels.

    grad_transformed: dV (16, n*th*tw, C); grad_padded: (n, 2*th + 2, 2*tw + 2, C), added to in
    place. Neighbouring tiles share two rows or columns, so one pixel collects up to four terms;
    position (i, j) of every tile is one strided slice, and within it no two tiles meet.
    """
    xp = get_array_module(grad_transformed)
    n, channels = grad_padded.shape[0], grad_padded.shape[3]
    th, tw = tiles
    transform = tile_transform(INPUT_TRANSFORM, xp, grad_transformed.dtype)
    grad_tiles = (transform.T @ grad_transformed.reshape(16, -1)).reshape(4, 4, n, th, tw, channels)
    for i in range(4):
        for j in range(4):
            grad_padded[:, i : i + 2 * th : 2, j : j + 2 * tw : 2, :] += grad_tiles[i, j]
    return grad_padded


def transformed_filters(weight: Any) -> Any:
    """U = G g G^T for every 3x3 filter g: weight (F, C, 3, 3) -> U (16, F, C)."""
    xp = get_array_module(weight)
    filters, channels = weight.shape[:2]
    transform = tile_transform(FILTER_TRANSFORM, xp, weight.dtype)  # (16, 9)
    return (transform @ weight.reshape(filters * channels, 9).T).reshape(16, filters, channels)


def filter_gradient(grad_transformed: Any) -> Any:
    """The adjoint of ``transformed_filters``: dU (16, F, C) -> dL/dg = G^T dU G, (F, C, 3, 3)."""
    xp = get_array_module(grad_transformed)
    _, filters, channels = grad_transformed.shape
    transform = tile_transform(FILTER_TRANSFORM, xp, grad_transformed.dtype)  # (16, 9)
    # (F*C, 16) @ (16, 9) lands in the weight's own layout; BLAS reads the transposed operand as is
    return (grad_transformed.reshape(16, -1).T @ transform).reshape(filters, channels, 3, 3)


def write_output_tiles(products: Any, out: Any) -> None:
    """Y = A^T M A for every tile, written into its 2x2 block of the output.

    products: M (16, n*th*tw, F); out: (n, F, 2*th, 2*tw), which every tile fills exactly once.
    """
    xp = get_array_module(products)
    n, filters, height, width = out.shape
    th, tw = height // 2, width // 2
    transform = tile_transform(OUTPUT_TRANSFORM, xp, products.dtype)  # (4, 16)
    blocks = (transform @ products.reshape(16, -1)).reshape(2, 2, n, th, tw, filters)
    # out[n, f, 2*ty + i, 2*tx + j] = blocks[i, j, n, ty, tx, f]
    out.reshape(n, filters, th, 2, tw, 2)[...] = blocks.transpose(2, 5, 3, 0, 4, 1)


def output_tile_gradients(grad_out: Any, tiles: tuple[int, int]) -> Any:
    """The adjoint of ``write_output_tiles``: dM = A dY A^T for every tile.

    grad_out: dY (n, F, H', W') -> dM (16, n*th*tw, F). An odd H' or W' is padded with zeros
    to the tiles' (2*th, 2*tw): those outputs were dropped, so their gradient is zero.
    """
    xp = get_array_module(grad_out)
    n, filters, out_h, out_w = grad_out.shape
    th, tw = tiles
    if (out_h, out_w) != (2 * th, 2 * tw):
        full = xp.zeros((n, filters, 2 * th, 2 * tw), dtype=grad_out.dtype)
        full[:, :, :out_h, :out_w] = grad_out
        grad_out = full
    blocks = xp.empty((2, 2, n, th, tw, filters), dtype=grad_out.dtype)
    blocks[...] = grad_out.reshape(n, filters, th, 2, tw, 2).transpose(3, 5, 0, 2, 4, 1)
    transform = tile_transform(OUTPUT_TRANSFORM, xp, grad_out.dtype)  # (4, 16)
    return (transform.T @ blocks.reshape(4, -1)).reshape(16, n * th * tw, filters)


# ----------------------------------------------------------------------------- the convolution


def winograd_forward(
    x: Any, weight: Any, padding: tuple[int, int], slices_for: Callable[[int, int], list[slice]]
) -> tuple[Any, tuple]:
    """y = conv2d(x, weight, stride 1, padding), by F(2x2, 3x3); no bias.

    x: (N, C, H, W), weight: (F, C, 3, 3) -> y: (N, F, H + 2ph - 2, W + 2pw - 2), and what
    ``winograd_backward`` needs. ``slices_for(N, bytes per sample of V)`` splits the batch
    (``modules.batch_slices``); when one slice holds the whole batch, V is kept for backward.
    """
    xp = get_array_module(x)
    n, channels, height, width = x.shape
    out_size = (height + 2 * padding[0] - 2, width + 2 * padding[1] - 2)
    tiles = tile_grid(out_size)
    padded = channels_last_padded(x, padding, tiles)
    filters_t = transformed_filters(weight)  # U: (16, F, C)
    y = xp.empty((n, weight.shape[0], 2 * tiles[0], 2 * tiles[1]), dtype=x.dtype)
    slices = slices_for(n, 16 * tiles[0] * tiles[1] * channels * x.itemsize)
    for batch in slices:
        inputs_t = transformed_tiles(padded[batch], tiles)  # V: (16, tiles, C)
        products = xp.matmul(inputs_t, filters_t.transpose(0, 2, 1))  # M: (16, tiles, F)
        write_output_tiles(products, y[batch])
    if y.shape[2:] != out_size:  # an odd size: drop the extra row or column of outputs
        y = xp.ascontiguousarray(y[:, :, : out_size[0], : out_size[1]])
    kept = inputs_t if len(slices) == 1 else None
    return y, (padded, filters_t, kept, x.shape, padding)


def winograd_backward(
    grad_out: Any, saved: tuple, slices_for: Callable[[int, int], list[slice]], needs_input_grad: bool = True
) -> tuple[Any, Any]:
    """(dL/dweight (F, C, 3, 3), dL/dx (N, C, H, W) or None) from dY (N, F, H', W') and ``saved``."""
    xp = get_array_module(grad_out)
    padded, filters_t, kept, x_shape, (ph, pw) = saved
    n, _, height, width = x_shape
    channels = padded.shape[3]
    tiles = tile_grid(grad_out.shape[2:])
    grad_filters_t = None  # dU: (16, F, C), summed over the batch slices
    grad_padded = xp.zeros(padded.shape, dtype=grad_out.dtype) if needs_input_grad else None
    for batch in slices_for(n, 16 * tiles[0] * tiles[1] * channels * grad_out.itemsize):
        grad_products = output_tile_gradients(grad_out[batch], tiles)  # dM: (16, tiles, F)
        inputs_t = kept if kept is not None else transformed_tiles(padded[batch], tiles)
        slice_grad = xp.matmul(grad_products.transpose(0, 2, 1), inputs_t)
        if grad_filters_t is None:
            grad_filters_t = slice_grad
        else:
            grad_filters_t += slice_grad
        if grad_padded is not None:
            grad_inputs_t = xp.matmul(grad_products, filters_t)  # dV: (16, tiles, C)
            add_tile_gradients(grad_inputs_t, grad_padded[batch], tiles)
    grad_weight = filter_gradient(grad_filters_t)
    if grad_padded is None:
        return grad_weight, None
    grad_x = grad_padded[:, ph : ph + height, pw : pw + width, :].transpose(0, 3, 1, 2)
    return grad_weight, xp.ascontiguousarray(grad_x)
