"""``python -m benchmarks.inspection_cost`` on one round: every variant runs and gets a line of the table."""

import re

from benchmarks import inspection_cost


def test_one_round_times_the_four_variants_against_the_plain_run(capsys):
    assert inspection_cost.main(["--model", "mlp", "--rounds", "1", "--warmup", "0", "--pause", "0"]) == 0
    out = capsys.readouterr().out
    assert "nnscratch mlp --hidden-sizes 256,128 --dataset sample --epochs 1 --quiet: seconds per run" in out
    for name in inspection_cost.VARIANTS:
        assert re.search(rf"^{name} +\d+\.\d\d +\d+\.\d\d-\d+\.\d\d +\d+\.\d\d$", out, re.M), name
    assert re.search(r"^plain .* 1\.00$", out, re.M)


def test_the_table_divides_each_median_by_the_plain_runs():
    text = inspection_cost.table({"plain": [2.0, 1.0, 3.0], "report": [4.0, 5.0, 3.0]})
    assert text.splitlines()[1:] == [
        "plain             2.00     1.00-3.00   1.00",
        "report            4.00     3.00-5.00   2.00",
    ]
