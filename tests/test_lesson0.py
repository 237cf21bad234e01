"""Lesson 0, ``examples/softmax_regression.py``: it runs on the bundled sample, learns, and its gradient is right."""

import importlib.util
import re
import subprocess
import sys

import numpy as np

from nnscratch.testing import gradcheck
from tests.docs.pages import ROOT

SCRIPT = ROOT / "examples" / "softmax_regression.py"
EPOCH = re.compile(r"^epoch +(\d+): train loss ([\d.]+)  test accuracy ([\d.]+)%", re.MULTILINE)


def run_lesson(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_lesson0_on_the_sample_starts_at_chance_and_ends_far_above_it_with_a_falling_loss():
    result = run_lesson("--epochs", "4")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "softmax regression on sample: 1,500 training and 500 test images" in out
    assert "before training: loss 2.3026 (= log 10" in out, "zero weights give every class p = 1/10"
    epochs = [(int(e), float(loss), float(acc)) for e, loss, acc in EPOCH.findall(out)]
    assert [e for e, _, _ in epochs] == [1, 2, 3, 4]
    losses = [loss for _, loss, _ in epochs]
    assert losses[0] < 2.3026 and losses[-1] < losses[0], losses
    assert epochs[-1][2] > 60.0, f"test accuracy {epochs[-1][2]}% should beat guessing (10%) by far"


def test_lesson0_refuses_a_bad_option_with_one_line_saying_which():
    result = run_lesson("--epochs", "0")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].endswith(
        "--epochs and --batch-size must be >= 1 and --lr > 0, got 0, 32, 0.01"
    )


def test_lesson0_gradient_by_hand_matches_central_differences():
    spec = importlib.util.spec_from_file_location("softmax_regression", SCRIPT)
    lesson = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lesson)
    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(5, 6)), np.array([0, 2, 1, 2, 0])
    weight, bias = rng.normal(size=(6, 3)), rng.normal(size=3)
    grad_logits = lesson.loss_and_grad(lesson.forward(x, weight, bias), labels)[1]

    def loss():
        return lesson.loss_and_grad(lesson.forward(x, weight, bias), labels)[0]

    grad_weight, grad_bias = lesson.backward(x, grad_logits)
    gradcheck(loss, {"weight": weight, "bias": bias}, {"weight": grad_weight, "bias": grad_bias})
