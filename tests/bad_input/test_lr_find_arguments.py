"""Bad values for `nnscratch lr-find`, each refused by the real command with one line naming the flag."""

import pytest

from .support import assert_refused, run_cli

LR_FIND = ("lr-find", "lenet", "--dataset", "sample", "--steps", "5", "--quiet")

# (id, extra arguments, words the error line must contain)
CASES = [
    ("start-zero", ["--start-lr", "0"], ["--start-lr"]),
    ("start-negative", ["--start-lr", "-1e-3"], ["--start-lr"]),
    ("start-nan", ["--start-lr", "nan"], ["--start-lr"]),
    ("end-infinite", ["--end-lr", "inf"], ["--end-lr"]),
    ("start-above-end", ["--start-lr", "2", "--end-lr", "1"], ["--start-lr", "--end-lr"]),
    ("steps-one", ["--steps", "1"], ["--steps", "at least 2"]),
    ("steps-zero", ["--steps", "0"], ["--steps"]),
    ("steps-fraction", ["--steps", "2.5"], ["--steps"]),
    ("batch-size-zero", ["--batch-size", "0"], ["--batch-size"]),
    ("plots-is-a-file", ["--plots", "notes.txt"], ["--plots", "notes.txt"]),
]


@pytest.mark.parametrize(("flags", "words"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_lr_find_values_are_refused_with_one_line_naming_the_flag(flags, words, tmp_path):
    (tmp_path / "notes.txt").write_text("not a folder")
    result = run_cli(*LR_FIND, *flags, cwd=tmp_path)
    assert_refused(result, *words)
    assert "suggested" not in result.stdout and not list(tmp_path.glob("*.png"))
