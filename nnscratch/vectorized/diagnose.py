"""Where did the NaN come from? Run one batch again with a check after every module.

When training diverges, the trainer knows the epoch and the batch, but not which layer
produced the first NaN or infinity: checking every module's output on every batch would cost
a host round-trip per module per batch. So nothing is checked while training goes well;
after a failure, ``locate_non_finite`` runs the failing batch forward and backward once more
with checks on every module, as hooks (``hooks.py``) removed afterwards, and reports the first
problem in the order the computation ran:

- a module whose parameters are already non-finite (an earlier update, or whoever set them);
- a module whose output is non-finite although its input was finite (forward order);
- the loss, non-finite from finite logits;
- a module whose gradient (d loss / d input, or of its own parameters) is non-finite
  although the gradient it received was finite (backward order, where the gradient starts).

A container (Sequential, a residual block) finishes after its children, so the first report
names the innermost module where the values went bad.
"""

from __future__ import annotations

from typing import Any

from ..common.backend import get_array_module
from ..common.state import copy_state
from .hooks import RemovableHandle
from .module import Module


def _finite(array: Any) -> bool:
    return array is None or bool(get_array_module(array).isfinite(array).all())


def _describe(name: str, module: Module) -> str:
    kind = type(module).__name__
    if not name:
        return f"the model ({kind})"
    options = module.extra_repr() if not list(module.named_children()) else ""
    return f"module {name!r} ({kind}({options}))"


def _own_parameters(module: Module) -> list[tuple[str, Any]]:
    """The module's own parameters (not its children's), by name."""
    held_by_children = {id(p) for _, child in module.named_children() for p in child.parameters()}
    return [(name, p) for name, p in module.named_parameters() if id(p) not in held_by_children]


def locate_non_finite(model: Module, loss: Any, inputs: Any, targets: Any) -> str:
    """Run inputs (a batch, as the model takes it) and targets (N,) through model and loss once more,
    forward and backward, checking after every module; say where NaN or inf first appears.

    Returns a sentence such as ``"first non-finite: the output of module '2' (Linear(...)),
    from a finite input"``. The model's parameters and buffers are put back afterwards
    (BatchNorm's running statistics are not disturbed); its gradients hold the re-run's.
    """
    if not _finite(inputs):
        return "first non-finite: the input batch itself"
    findings: list[str] = []
    before = copy_state(model.state_dict())
    handles = [handle for name, module in model.named_modules() for handle in _add_checks(name, module, findings)]
    try:
        model.zero_grad()
        logits = model.forward(inputs)
        if not findings:
            value = loss.forward(logits, targets)
            if not _finite(value):
                findings.append("first non-finite: the loss, from finite logits")
            else:
                model.backward(loss.backward())
    except Exception as error:  # the diagnosis must not hide the divergence it was asked about
        findings.append(f"running the batch again to find the module failed ({type(error).__name__}: {error})")
    finally:
        for handle in handles:
            handle.remove()
        model.load_state_dict(before)
    if not findings:
        return "running the batch again gave finite values everywhere: the failure did not repeat (randomness?)"
    return findings[0]


def _add_checks(name: str, module: Module, findings: list[str]) -> list[RemovableHandle]:
    """Hooks on ``module`` that append the first problem to findings; returns their handles."""
    own = _own_parameters(module)
    where = _describe(name, module)

    def check_parameters(_module: Module, _inputs: tuple) -> None:
        if not findings:
            broken = [parameter_name for parameter_name, p in own if not _finite(p.data)]
            if broken:
                findings.append(f"first non-finite: the parameters {broken} of {where}, already before this batch")

    def check_output(_module: Module, inputs: tuple, output: Any) -> None:
        if not findings and _finite(inputs[0]) and not _finite(output):
            findings.append(f"first non-finite: the output of {where}, from a finite input")

    def check_gradients(_module: Module, grad_input: tuple, grad_output: tuple) -> None:
        if not findings and _finite(grad_output[0]):
            broken = [parameter_name for parameter_name, p in own if not _finite(p.grad)]
            if not _finite(grad_input[0]):
                findings.append(f"first non-finite: the gradient d loss / d input of {where}, from a finite gradient")
            elif broken:
                findings.append(f"first non-finite: the gradient of {broken} of {where}, from a finite gradient")

    return [
        module.register_forward_pre_hook(check_parameters),
        module.register_forward_hook(check_output),
        module.register_backward_hook(check_gradients),
    ]
