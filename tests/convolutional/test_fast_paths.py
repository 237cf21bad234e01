"""The pieces of the fast routes, and the choices inside them, give the numbers of the plain ones.

``test_algorithms.py`` checks each route of Conv2D as a whole against the reference, the loops
and PyTorch. Here: the wide layout and its col2im, the wide route's two input gradients (a
convolution with the flipped kernel for enough channels, the wide col2im for few) and its
batch slices, Winograd's transforms and variants, the row bands' banded matrix, where
``algorithm="auto"`` sends which layer, and the pools' reshape path for windows that tile.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.convolutional.algorithms import banded, slices, wide, winograd
from nnscratch.convolutional.modules import AvgPool2D, Conv2D, MaxPool2D, ReLU, ReLU6, im2col, no_grad
from nnscratch.convolutional.windows import pad_images, wide_length, wide_to_images
from nnscratch.testing import gradcheck_module
from tests.convolutional.test_modules import assert_input_gradient_can_be_skipped, close, geometry, random_input
from tests.support import assert_close, to_torch


@st.composite
def stride_one_geometry(draw):
    """kernel, padding (pairs, padding possibly above kernel - 1) and an input size the kernel fits in."""
    kernel, _, padding, size = draw(geometry(max_padding=3))
    return kernel, padding, size


def conv_against_torch(conv, x, seed):
    y = conv.forward(x)
    upstream = random_input(seed + 1, y.shape)
    grad_x = conv.backward(upstream)
    tx, tw = to_torch(x, True), to_torch(conv.weight.data, True)
    tb = None if conv.bias is None else to_torch(conv.bias.data, True)
    ty = F.conv2d(tx, tw, tb, stride=conv.stride, padding=conv.padding)
    ty.backward(to_torch(upstream))
    close(y, ty, "y")
    close(grad_x, tx.grad, "dL/dx")
    close(conv.weight.grad, tw.grad, "dL/dweight")
    if conv.bias is not None:
        close(conv.bias.grad, tb.grad, "dL/dbias")


# ----------------------------------------------------------------------------- wide im2col / col2im


@given(stride_one_geometry(), st.integers(1, 3), st.integers(1, 3), st.integers())
def test_wide_im2col_holds_the_compact_columns_at_the_valid_positions(geo, n, channels, seed):
    kernel, padding, size = geo
    padded = pad_images(random_input(seed % 2**32, (n, channels, *size)), padding)
    compact = im2col(padded, kernel, (1, 1))
    out_size = (padded.shape[2] - kernel[0] + 1, padded.shape[3] - kernel[1] + 1)
    per_sample = wide_length(out_size, padded.shape[3])
    cols = wide.wide_im2col(padded, kernel, np.empty((compact.shape[0], n * per_sample)))
    valid = wide_to_images(cols.reshape(-1, n, per_sample), out_size, padded.shape[3])
    np.testing.assert_array_equal(valid.reshape(compact.shape), compact)


@given(stride_one_geometry(), st.integers(1, 2), st.integers(1, 3), st.integers())
def test_wide_col2im_is_the_adjoint_of_wide_im2col_on_the_valid_columns(geo, n, channels, seed):
    kernel, padding, size = geo
    padded = random_input(seed % 2**32, (n, channels, size[0] + 2 * padding[0], size[1] + 2 * padding[1]))
    out_size = (padded.shape[2] - kernel[0] + 1, padded.shape[3] - kernel[1] + 1)
    per_sample = wide_length(out_size, padded.shape[3])
    cols = wide.wide_im2col(padded, kernel, np.empty((channels * kernel[0] * kernel[1], n * per_sample)))
    other = random_input(seed % 2**32 + 1, cols.shape)
    # junk columns must carry zeros into col2im (the wide route makes sure they do)
    keep = np.zeros((1, n, per_sample))
    wide_to_images(keep, out_size, padded.shape[3])[...] = 1
    other *= keep.reshape(1, -1)
    back = wide.wide_col2im(other, kernel, np.zeros_like(padded))
    np.testing.assert_allclose(np.sum(cols * other), np.sum(padded * back), rtol=1e-10)


# ----------------------------------------------------------------------------- the wide route's input gradients


@pytest.mark.parametrize("min_channels", [1, 10**6], ids=["flipped-convolution", "col2im"])
@given(geo=stride_one_geometry(), n=st.integers(1, 3), channels=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_wide_route_matches_torch_with_either_input_gradient(min_channels, geo, n, channels, seed):
    kernel, padding, size = geo
    conv = Conv2D(channels, 2, kernel, 1, padding, seed=seed, algorithm="wide").to(np.float64)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(wide, "FLIPPED_CONVOLUTION_MIN_CHANNELS", min_channels)
        conv_against_torch(conv, random_input(seed, (n, channels, *size)), seed)


@pytest.mark.parametrize("min_channels", [1, 10**6], ids=["flipped-convolution", "col2im"])
def test_wide_route_gives_the_same_numbers_whatever_the_batch_slice_size(monkeypatch, min_channels):
    monkeypatch.setattr(wide, "FLIPPED_CONVOLUTION_MIN_CHANNELS", min_channels)
    conv = Conv2D(3, 4, 3, padding=1, seed=1, algorithm="wide").to(np.float64)
    x, upstream = random_input(0, (5, 3, 6, 7)), random_input(1, (5, 4, 6, 7))
    whole_y, whole_grad_x = conv.forward(x), conv.backward(upstream)
    whole_grad_w = conv.weight.grad.copy()
    conv.zero_grad()
    monkeypatch.setattr(slices, "CPU_COLS_BYTES_PER_SLICE", 1)
    assert len(slices.batch_slices(5, 8)) == 5
    assert_close(conv.forward(x), whole_y, name="y")
    assert_close(conv.backward(upstream), whole_grad_x, name="dL/dx")
    assert_close(conv.weight.grad, whole_grad_w, name="dL/dweight")


def test_wide_route_with_enough_channels_takes_the_flipped_convolution_and_matches_torch(monkeypatch):
    # 16 input channels reach the flipped-convolution gradient without any setting changed
    calls = []
    monkeypatch.setattr(wide, "input_gradient_by_col2im", lambda *args: calls.append(args))
    conv = Conv2D(wide.FLIPPED_CONVOLUTION_MIN_CHANNELS, 3, 3, padding=1, seed=2, algorithm="wide").to(np.float64)
    conv_against_torch(conv, random_input(3, (2, conv.in_channels, 5, 6)), 3)
    assert calls == []


# ----------------------------------------------------------------------------- Winograd F(2x2, 3x3)


@pytest.mark.parametrize("variant", [winograd.F2, winograd.F4], ids=["F2", "F4"])
def test_one_winograd_tile_is_the_convolution_of_its_input_tile(variant):
    # the identity the algorithm rests on: A^T [(G g G^T) * (B^T d B)] A = the m x m outputs of g on d
    rng = np.random.default_rng(0)
    m, a = variant.outputs, variant.tile
    tile, kernel = rng.standard_normal((a, a)), rng.standard_normal((3, 3))
    b_t, g, a_t = (np.array(t, dtype=float) for t in variant[1:])
    outputs = a_t @ ((g @ kernel @ g.T) * (b_t @ tile @ b_t.T)) @ a_t.T
    direct = np.array([[np.sum(tile[i : i + 3, j : j + 3] * kernel) for j in range(m)] for i in range(m)])
    np.testing.assert_allclose(outputs, direct, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("variant", [winograd.F2, winograd.F4], ids=["F2", "F4"])
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31))
def test_winograd_transforms_and_their_gradients_are_adjoint(variant, n, th, tw, channels, seed):
    # <T(x), g> = <x, T^T(g)> for the tile, filter and output transforms: each backward is exact
    rng = np.random.default_rng(seed)
    tiles, m, positions = (th, tw), variant.outputs, variant.tile**2
    padded = rng.standard_normal((n, m * th + 2, m * tw + 2, channels))
    grad_t = rng.standard_normal((positions, n * th * tw, channels))
    back = winograd.add_tile_gradients(grad_t, np.zeros_like(padded), tiles, variant)
    forward = winograd.transformed_tiles(padded, tiles, variant)
    np.testing.assert_allclose(np.sum(forward * grad_t), np.sum(padded * back))

    weight, grad_u = rng.standard_normal((2, channels, 3, 3)), rng.standard_normal((positions, 2, channels))
    np.testing.assert_allclose(
        np.sum(winograd.transformed_filters(weight, variant) * grad_u),
        np.sum(weight * winograd.filter_gradient(grad_u, variant)),
    )

    products, grad_y = rng.standard_normal((positions, n * th * tw, 2)), rng.standard_normal((n, 2, m * th, m * tw))
    out = np.empty_like(grad_y)
    winograd.write_output_tiles(products, out, variant)
    grad_products = winograd.output_tile_gradients(grad_y, tiles, variant)
    np.testing.assert_allclose(np.sum(out * grad_y), np.sum(products * grad_products))


def test_winograd_variant_is_the_one_with_fewer_multiplications():
    # F2: 16 per 2x2 tile; F4: 36 per 4x4 tile; a tie goes to F2
    assert winograd.choose_variant((2, 2)) is winograd.F2  # 16 against 36
    assert winograd.choose_variant((5, 5)) is winograd.F2  # 16 * 9 = 144 against 36 * 4 = 144
    assert winograd.choose_variant((4, 4)) is winograd.F4  # 64 against 36
    assert winograd.choose_variant((28, 28)) is winograd.F4  # 3136 against 1764
    assert winograd.choose_variant((7, 2)) is winograd.F2  # 16 * 4 = 64 against 36 * 2 = 72


@pytest.mark.parametrize("variant", [winograd.F2, winograd.F4], ids=["F2", "F4"])
@given(case=st.tuples(st.integers(0, 2), st.integers(1, 9), st.integers(1, 9)), seed=st.integers(0, 2**31))
def test_each_winograd_variant_matches_torch_one_sample_at_a_time(variant, case, seed):
    padding, height, width = case
    height, width = max(height, 3 - 2 * padding), max(width, 3 - 2 * padding)
    rng = np.random.default_rng(seed)
    x, weight = rng.standard_normal((2, 3, height, width)), rng.standard_normal((2, 3, 3, 3))
    two_slices = lambda n, _: [slice(0, 1), slice(1, n)]  # noqa: E731
    y, saved = winograd.winograd_forward(x, weight, (padding, padding), two_slices, variant)
    upstream = rng.standard_normal(y.shape)
    grad_weight, grad_x = winograd.winograd_backward(upstream, saved)
    tx, tw = to_torch(x, True), to_torch(weight, True)
    ty = F.conv2d(tx, tw, padding=padding)
    ty.backward(to_torch(upstream))
    close(y, ty, "y")
    close(grad_x, tx.grad, "dL/dx")
    close(grad_weight, tw.grad, "dL/dweight")


@st.composite
def winograd_case(draw):
    """A 3x3 stride-1 convolution: padding 0-3, an input the kernel fits in (odd and even outputs)."""
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    size = tuple(max(1, 3 - 2 * p) + draw(st.integers(0, 6)) for p in padding)
    return padding, size, draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))


@pytest.mark.parametrize("slice_bytes", [1, 2**23], ids=["a-slice-per-sample", "one-slice"])
@given(case=winograd_case(), bias=st.booleans(), seed=st.integers(0, 2**31))
def test_winograd_conv2d_matches_torch(slice_bytes, case, bias, seed):
    padding, size, n, channels, filters = case
    conv = Conv2D(channels, filters, 3, 1, padding, bias=bias, seed=seed, algorithm="winograd").to(np.float64)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(slices, "CPU_COLS_BYTES_PER_SLICE", slice_bytes)
        conv_against_torch(conv, random_input(seed, (n, channels, *size)), seed)
    assert conv.last_algorithm == "winograd"


def test_winograd_forward_without_backward_keeps_nothing():
    x, weight = random_input(0, (3, 2, 6, 6)), random_input(1, (2, 2, 3, 3))
    slices = lambda n, _: [slice(i, i + 1) for i in range(n)]  # noqa: E731
    y, saved = winograd.winograd_forward(x, weight, (1, 1), slices, winograd.F4)
    assert len(saved[3]) == 3  # one V per slice, for backward
    y_inference, nothing = winograd.winograd_forward(x, weight, (1, 1), slices, winograd.F4, keep=False)
    assert nothing is None
    np.testing.assert_array_equal(y_inference, y)


def test_winograd_conv2d_passes_gradcheck_and_skips_the_input_gradient_when_asked():
    conv = Conv2D(2, 3, 3, padding=1, seed=0, algorithm="winograd").to(np.float64)
    x = random_input(0, (2, 2, 5, 4))
    gradcheck_module(conv, x)
    upstream = random_input(1, (2, 3, 5, 4))
    assert_input_gradient_can_be_skipped(conv, x, upstream)


def test_winograd_conv2d_keeps_float32_and_auto_takes_it_only_for_3x3_stride_1_with_enough_channels():
    channels = winograd.WINOGRAD_MIN_CHANNELS
    conv = Conv2D(channels, 4, 3, padding=1, seed=0)
    x = random_input(0, (2, channels, 6, 6)).astype(np.float32)
    y = conv.forward(x)
    assert conv.last_algorithm == "winograd"
    assert y.dtype == np.float32 and conv.backward(np.ones_like(y)).dtype == np.float32
    assert conv.weight.grad.dtype == np.float32
    assert Conv2D(channels, 4, 3, stride=2).route(x.shape).name == "im2col"
    assert Conv2D(channels, 4, 5).route(x.shape).name == "wide"
    assert Conv2D(channels - 1, 4, 3).route((2, channels - 1, 6, 6)).name == "wide"


def test_winograd_conv2d_with_its_default_channel_count_matches_torch():
    # no setting changed: a layer this wide takes the Winograd route by itself
    conv = Conv2D(winograd.WINOGRAD_MIN_CHANNELS, 3, 3, padding=1, seed=2).to(np.float64)
    conv_against_torch(conv, random_input(3, (2, conv.in_channels, 5, 6)), 3)
    assert conv.last_algorithm == "winograd"


# ----------------------------------------------------------------------------- pools whose windows tile


@given(
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31)
)
def test_tiled_pools_match_torch_with_ties_and_nans(n, kh, kw, rows, columns, seed):
    rng = np.random.default_rng(seed)
    # few distinct values: many ties; some NaNs: the max pool must route them as torch does
    x = rng.integers(0, 3, (n, 2, kh * rows, kw * columns)).astype(np.float64)
    x[rng.random(x.shape) < 0.1] = np.nan
    for ours, reference in ((MaxPool2D((kh, kw)), F.max_pool2d), (AvgPool2D((kh, kw)), F.avg_pool2d)):
        y = ours.forward(x)
        assert ours.last_algorithm == "tiled"
        upstream = rng.standard_normal(y.shape)
        tx = to_torch(x, True)
        ty = reference(tx, (kh, kw))
        ty.backward(to_torch(upstream))
        np.testing.assert_array_equal(np.isnan(y), np.isnan(ty.detach().numpy()))
        close(np.nan_to_num(y), np.nan_to_num(ty.detach().numpy()), f"{type(ours).__name__} y")
        close(ours.backward(upstream), tx.grad, f"{type(ours).__name__} dL/dx")


@given(
    st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31)
)
def test_the_tiled_pool_route_matches_the_windows_reference(n, kh, kw, rows, columns, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, (n, 2, kh * rows, kw * columns)).astype(np.float64)
    x[rng.random(x.shape) < 0.1] = np.nan
    for pool in (MaxPool2D, AvgPool2D):
        tiled, windows = pool((kh, kw), algorithm="tiled"), pool((kh, kw), algorithm="windows")
        y = tiled.forward(x)
        np.testing.assert_array_equal(y, windows.forward(x))  # the same numbers, NaNs in the same places
        upstream = rng.standard_normal(y.shape)
        np.testing.assert_allclose(tiled.backward(upstream), windows.backward(upstream), rtol=1e-15)
        assert (tiled.last_algorithm, windows.last_algorithm) == ("tiled", "windows")


@pytest.mark.parametrize("pool", [MaxPool2D, AvgPool2D])
def test_forcing_the_tiled_pool_route_where_windows_overlap_says_why(pool):
    with pytest.raises(ValueError, match=r"algorithm 'tiled' needs windows that tile the image.*use 'auto' or"):
        pool(3, stride=2, algorithm="tiled").forward(np.zeros((1, 1, 7, 7)))
    with pytest.raises(ValueError, match=r"algorithm must be one of auto, windows, tiled, got 'fast'"):
        pool(2, algorithm="fast")


def test_tiled_max_pool_keeps_nothing_for_backward_inside_no_grad():
    pool = MaxPool2D(2)
    with no_grad():
        y = pool.forward(random_input(0, (2, 3, 4, 4)))
    assert y.shape == (2, 3, 2, 2)
    with pytest.raises(RuntimeError, match="backward\\(\\) called before forward\\(\\)"):
        pool.backward(np.ones_like(y))


class CountsComparisons(np.ndarray):
    """An array that counts the ``x > value`` comparisons made on it: the mask a ReLU builds."""

    comparisons = 0

    def __gt__(self, other):
        CountsComparisons.comparisons += 1
        return super().__gt__(other)


@pytest.mark.parametrize("activation", [ReLU, ReLU6])
def test_relu_builds_no_mask_inside_no_grad(activation):
    x = (random_input(0, (2, 3, 4, 4)) * 8).view(CountsComparisons)  # values beyond ReLU6's cap too
    CountsComparisons.comparisons = 0
    with_grad = activation().forward(x)
    assert CountsComparisons.comparisons == 1  # the mask backward needs
    relu = activation()
    with no_grad():
        y = relu.forward(x)
    assert CountsComparisons.comparisons == 1  # none more: no backward will follow
    np.testing.assert_array_equal(y, with_grad)
    with pytest.raises(RuntimeError, match="backward\\(\\) called before forward\\(\\)"):
        relu.backward(np.ones_like(y))


def test_winograd_transform_matrices_are_built_once_per_dtype_and_shared_read_only():
    first = winograd.tile_transform(winograd.F4.input_transform, np, np.float32)
    again = winograd.tile_transform(winograd.F4.input_transform, np, np.dtype("float32"))
    wider = winograd.tile_transform(winograd.F4.input_transform, np, np.float64)
    assert again is first and first.dtype == np.float32 and wider.dtype == np.float64
    assert first.shape == (36, 36) and not first.flags.writeable
    small = np.array(winograd.F4.input_transform, dtype=np.float64)
    np.testing.assert_array_equal(wider, np.kron(small, small))


# ----------------------------------------------------------------------------- row bands


@given(
    filters=st.integers(1, 3),
    channels=st.integers(1, 3),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    extra=st.integers(0, 4),
    seed=st.integers(0, 2**31),
)
def test_banded_weight_and_its_weight_gradient_are_adjoint(filters, channels, kh, kw, extra, seed):
    rng = np.random.default_rng(seed)
    width = kw + extra
    weight = rng.standard_normal((filters, channels, kh, kw))
    grad_banded = rng.standard_normal((channels * kh * width, filters * (width - kw + 1)))
    matrix = banded.banded_weight(weight, width)
    # <T(W), G> = <W, T*(G)>: the gradient of W is the adjoint of the map W -> T
    np.testing.assert_allclose(
        np.vdot(matrix, grad_banded),
        np.vdot(weight, banded.weight_gradient_from_banded(grad_banded, weight.shape, width)),
        rtol=1e-12,
    )
    # and T holds each weight once per output column, nothing else
    copies = np.repeat(weight.ravel(), width - kw + 1)
    np.testing.assert_array_equal(np.sort(matrix[matrix != 0]), np.sort(copies[copies != 0]))


def test_one_band_times_the_banded_weight_is_one_output_row():
    x, weight = random_input(0, (1, 2, 3, 6)), random_input(1, (4, 2, 3, 3))
    bands = banded.row_bands(x, 3)  # one output row: (1, 2*3*6)
    row = (bands @ banded.banded_weight(weight, 6)).reshape(4, 4)
    direct = np.array([[np.sum(weight[f] * x[0, :, :, w : w + 3]) for w in range(4)] for f in range(4)])
    np.testing.assert_allclose(row, direct, rtol=1e-12)


def test_auto_sends_lenets_convolutions_and_only_narrow_ones_by_row_bands():
    assert Conv2D(1, 6, 5, padding=2).route((1, 1, 28, 28)).name == "banded"  # LeNet-5's first layer, 28x28
    assert Conv2D(6, 16, 5).route((1, 6, 14, 14)).name == "banded"  # and its second
    assert Conv2D(1, 32, 3, padding=1).route((1, 1, 28, 28)).name == "wide"  # 3x3 over 28x28: Wp/kw = 10
    too_many = banded.BANDED_MAX_CHANNELS + 1
    assert Conv2D(too_many, 16, 5).route((1, too_many, 10, 10)).name == "wide"
    assert Conv2D(1, 6, 5, stride=2).route((1, 1, 14, 14)).name == "im2col"


def test_banded_conv2d_passes_gradcheck_keeps_float32_and_can_skip_the_input_gradient():
    conv = Conv2D(2, 3, (3, 2), padding=(1, 0), seed=3, algorithm="banded").to(np.float64)
    x, upstream = random_input(3, (2, 2, 5, 4)), random_input(4, (2, 3, 5, 3))
    gradcheck_module(conv, x)
    assert_input_gradient_can_be_skipped(conv, x, upstream)
    single = Conv2D(6, 16, 5, seed=0)
    y = single.forward(random_input(5, (2, 6, 14, 14)).astype(np.float32))
    assert single.last_algorithm == "banded"
    assert y.dtype == np.float32 and single.backward(np.ones_like(y)).dtype == np.float32
