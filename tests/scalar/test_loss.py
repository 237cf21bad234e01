import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from nnscratch.scalar import cross_entropy, logsumexp, softmax
from tests.scalar.scalar_support import assert_list_gradient
from tests.support import RTOL_EXACT


@st.composite
def logits_and_target(draw, scale=20.0):
    num_classes = draw(st.integers(1, 8))
    logits = draw(st.lists(st.floats(-scale, scale), min_size=num_classes, max_size=num_classes))
    return logits, draw(st.integers(0, num_classes - 1))


@given(logits_and_target())
def test_loss_and_gradient_match_torch(problem):
    logits, target = problem
    z = torch.tensor(logits, requires_grad=True)
    expected = F.cross_entropy(z[None], torch.tensor([target]))
    expected.backward()
    loss, grad = cross_entropy(logits, target)
    assert loss == pytest.approx(expected.item(), rel=RTOL_EXACT, abs=1e-12)
    np.testing.assert_allclose(grad, z.grad.numpy(), rtol=RTOL_EXACT, atol=1e-12)
    np.testing.assert_allclose(softmax(logits), torch.softmax(z, 0).detach().numpy(), rtol=RTOL_EXACT, atol=1e-15)
    assert logsumexp(logits) == pytest.approx(torch.logsumexp(z, 0).item(), rel=RTOL_EXACT)


@given(logits_and_target())
def test_softmax_is_a_distribution_and_the_gradient_sums_to_zero(problem):
    logits, target = problem
    probabilities = softmax(logits)
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    assert math.fsum(probabilities) == pytest.approx(1.0, abs=1e-12)
    loss, grad = cross_entropy(logits, target)
    assert loss >= 0.0
    assert math.fsum(grad) == pytest.approx(0.0, abs=1e-12)


def test_gradient_matches_central_difference():
    logits = [0.3, -1.2, 2.5, 0.0]
    _, grad = cross_entropy(logits, 2)
    assert_list_gradient(lambda: cross_entropy(logits, 2)[0], logits, grad, "d loss / d logits")


def test_huge_logits_stay_finite():
    # exp(1000) would overflow (math.exp raises); subtracting the max keeps every exponent <= 0
    loss, grad = cross_entropy([1000.0, -1000.0, 0.0], 1)
    assert loss == pytest.approx(2000.0)
    assert grad == pytest.approx([1.0, -1.0, 0.0])
    assert cross_entropy([1000.0, -1000.0], 0)[0] == 0.0


@pytest.mark.parametrize("target", [3, -1, 1.0, "1"])
def test_bad_targets_are_refused(target):
    expected = rf"cross_entropy: target must be a class index in 0..2 for 3 logits, got {target!r}"
    with pytest.raises(ValueError, match=expected):
        cross_entropy([0.1, 0.2, 0.3], target)
