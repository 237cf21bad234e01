"""per_channel: one value per channel, written out over one sample, is the broadcast of the (1, C, 1, ...) view."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.vectorized.per_channel import per_channel


@given(
    st.integers(1, 4),
    st.integers(1, 6),
    st.lists(st.integers(1, 5), min_size=0, max_size=2),
    st.sampled_from([np.float32, np.float64]),
)
def test_it_holds_each_channels_value_at_every_position_of_one_sample(batch, channels, spatial, dtype):
    values = np.arange(1, channels + 1, dtype=dtype)
    shape = (batch, channels, *spatial)
    laid_out = per_channel(values, shape)
    assert laid_out.shape == (1, channels, *spatial)
    assert laid_out.dtype == dtype and laid_out.flags.c_contiguous
    for channel in range(channels):
        assert np.all(laid_out[0, channel] == values[channel])
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    view = values.reshape((1, -1) + (1,) * len(spatial))
    np.testing.assert_array_equal(x * laid_out, x * view)


def test_it_accepts_a_strided_view_and_is_a_copy_of_it():
    weight = np.arange(24.0).reshape(4, 1, 2, 3)
    laid_out = per_channel(weight[:, 0, 1, 2], (2, 4, 3, 3))
    np.testing.assert_array_equal(laid_out[0, :, 0, 0], [5.0, 11.0, 17.0, 23.0])
    laid_out[...] = 0  # writing to it leaves the weight alone
    assert weight[3, 0, 1, 2] == 23.0
