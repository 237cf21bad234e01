"""``nnscratch exercises``: the stubs start undone, the library's solutions pass, a wrong one is pointed at."""

from __future__ import annotations

import inspect
import re
import textwrap
from pathlib import Path

import pytest

from nnscratch.cli import main
from nnscratch.convolutional.architectures import build
from nnscratch.exercises.catalog import EXERCISES, FILES
from nnscratch.exercises.learner import load
from nnscratch.exercises.stubs import Source
from nnscratch.exercises.training import MODELS, needed, replacements, swap_classes
from nnscratch.vectorized.mlp import build_mlp


def start(folder: Path, *flags: str) -> None:
    assert main(["exercises", "start", str(folder), *flags]) == 0


def rows(output: str) -> dict[str, tuple[str, str]]:
    """The progress table as exercise name -> (status, first difference)."""
    table = {}
    for line in output.splitlines():
        match = re.match(r"\s*\d+\s+(\S+)\s+(done|not done yet|wrong)\s*(.*)$", line)
        if match:
            table[match[1]] = (match[2], match[3])
    return table


@pytest.fixture(scope="module")
def solutions(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("solutions")
    start(folder, "--force", "--solutions")
    return folder


def test_start_then_check_reports_every_exercise_not_done_yet_and_exits_1(tmp_path, capsys):
    start(tmp_path / "mine")
    assert "nnscratch exercises check" in capsys.readouterr().out  # says what to do next
    assert sorted(path.name for path in (tmp_path / "mine").iterdir()) == sorted(FILES)
    assert main(["exercises", "check", str(tmp_path / "mine")]) == 1
    table = rows(capsys.readouterr().out)
    assert list(table) == [exercise.name for exercise in EXERCISES]
    assert len(EXERCISES) >= 12
    assert set(table.values()) == {("not done yet", "")}


def test_the_library_solutions_pass_every_check_and_exit_0(solutions, capsys):
    assert main(["exercises", "check", str(solutions)]) == 0
    output = capsys.readouterr().out
    assert set(rows(output).values()) == {("done", "")}
    assert f"{len(EXERCISES)} of {len(EXERCISES)} done" in output


def test_a_batchnorm_backward_that_drops_the_mean_path_is_wrong_at_its_first_element(solutions, tmp_path, capsys):
    start(tmp_path, "--solutions")
    layers = tmp_path / "step3_layers.py"
    mean_path = "        grad_x -= per_channel(scale * grad_sum / count, shape)\n"
    assert mean_path in layers.read_text()
    layers.write_text(layers.read_text().replace(mean_path, ""))
    assert main(["exercises", "check", str(tmp_path), "batchnorm", "linear"]) == 1
    table = rows(capsys.readouterr().out)
    assert table["linear"] == ("done", "")
    status, detail = table["batchnorm"]
    assert status == "wrong"
    assert re.search(r"dL/dx \(what backward returns\) at index \(0, 0\): expected -?\d\S*, got -?\d\S*", detail)


def test_a_wrong_col2im_shows_on_its_own_row_only_conv2d_is_checked_with_the_librarys(tmp_path, capsys):
    start(tmp_path, "--solutions")
    conv = tmp_path / "step5_conv.py"
    conv.write_text(
        conv.read_text().replace(
            "out[kernel_offset(i, j, stride, out_size, dilation)] +=",
            "out[kernel_offset(i, j, stride, out_size, dilation)] =",
        )
    )
    assert main(["exercises", "check", str(tmp_path), "col2im", "conv2d"]) == 1
    table = rows(capsys.readouterr().out)
    assert table["col2im"][0] == "wrong" and "expected" in table["col2im"][1]
    assert table["conv2d"] == ("done", "")


def test_a_file_that_does_not_import_is_reported_on_its_rows_not_as_a_traceback(tmp_path, capsys):
    start(tmp_path)
    (tmp_path / "step4_optim.py").write_text("def broken(:\n")
    assert main(["exercises", "check", str(tmp_path), "sgd", "adam", "neuron"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    table = rows(captured.out)
    assert table["neuron"] == ("not done yet", "")
    for name in ("sgd", "adam"):
        assert table[name][0] == "wrong"
        assert "step4_optim.py does not import: SyntaxError" in table[name][1] and "line 1" in table[name][1]


def test_start_keeps_the_learners_files_unless_forced(tmp_path, capsys):
    start(tmp_path)
    (tmp_path / "step1_neuron.py").write_text("# my work\n")
    assert main(["exercises", "start", str(tmp_path)]) == 2
    assert "your work is kept (--force overwrites it)" in capsys.readouterr().err
    assert (tmp_path / "step1_neuron.py").read_text() == "# my work\n"
    start(tmp_path, "--force")
    assert "raise NotImplementedError" in (tmp_path / "step1_neuron.py").read_text()


def test_a_missing_folder_or_an_unknown_exercise_is_bad_input(tmp_path, capsys):
    assert main(["exercises", "check", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    start(tmp_path)
    assert main(["exercises", "check", str(tmp_path), "linear", "lstm"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "unknown exercise(s) lstm" in error


def test_every_stub_keeps_the_library_signature_and_its_solution_is_the_library_body(solutions, tmp_path):
    start(tmp_path)
    for exercise in EXERCISES:
        stub, answer_text = load(tmp_path / exercise.file), (solutions / exercise.file).read_text()
        for qualname in exercise.targets:
            library = Source.of(exercise.module, qualname)
            assert library.header.strip() in inspect.getsource(_resolve(stub, qualname)), qualname
            assert textwrap.indent(library.body, "    " * (1 + qualname.count("."))) in answer_text, qualname


def _resolve(module, qualname: str):
    target = module
    for part in qualname.split("."):
        target = getattr(target, part)
    return inspect.unwrap(target)


def test_the_trained_models_are_made_of_the_learners_classes_on_the_reference_routes(solutions):
    modules = {file: load(solutions / file) for file in FILES}
    mlp = build_mlp(784, [16], 10, dropout=0.1, batchnorm=True)
    lenet = build("lenet", 1, 10, 28)
    for model, name in ((mlp, "mlp"), (lenet, "lenet")):
        classes = replacements(needed(name), modules)
        assert swap_classes(model.modules(), classes) > 0
        learner_layers = [layer for layer in model.modules() if type(layer) in classes.values()]
        assert {type(layer).__module__ for layer in learner_layers} == {
            "_nnscratch_exercise_step3_layers",
            *(["_nnscratch_exercise_step5_conv"] if name == "lenet" else []),
        }
    assert {layer.algorithm for layer in lenet.modules() if type(layer).__name__ in ("Conv2D", "MaxPool2D")} == {
        "im2col",
        "windows",
    }
    assert set(MODELS["lenet"]) >= {"im2col", "col2im", "conv2d", "maxpool"}


def test_train_refuses_naming_the_missing_exercises(tmp_path, capsys):
    start(tmp_path)
    assert main(["exercises", "train", str(tmp_path), "--dataset", "sample", "--epochs", "1"]) == 2
    error = capsys.readouterr().err
    assert "the MLP needs exercises" in error and "3 linear (not done yet)" in error


def test_train_runs_an_mlp_then_lenet_of_the_solutions_for_one_epoch_on_the_sample(solutions, capsys):
    argv = ["exercises", "train", str(solutions), "--dataset", "sample", "--epochs", "1", "--quiet"]
    assert main(argv) == 0
    output = capsys.readouterr().out
    assert "nnscratch mlp --batchnorm --epochs 1" in output and "nnscratch train lenet --epochs 1" in output
    accuracies = [float(value) for value in re.findall(r"test accuracy ([\d.]+)%", output)]
    assert len(accuracies) == 2 and accuracies[0] > 50  # the MLP learns in one epoch; LeNet-5 has begun


def test_a_flag_or_a_name_given_to_the_wrong_action_is_refused(tmp_path, capsys):
    assert main(["exercises", "check", str(tmp_path), "--solutions"]) == 2
    assert "--solutions goes with `exercises start`, not `exercises check`" in capsys.readouterr().err
    assert main(["exercises", "start", str(tmp_path), "linear"]) == 2
    assert "exercise names (linear) go with `exercises check`" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # refused before anything was written
