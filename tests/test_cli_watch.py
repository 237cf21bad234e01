"""`--watch [K]` on `nnscratch train` and `nnscratch mlp`: the health table and warnings at the end of a run."""

from nnscratch.cli import build_parser
from nnscratch.cli.mlp import MLPRun
from nnscratch.cli.train import TrainRun
from nnscratch.vectorized.watch import DEFAULT_EVERY

MLP = ["mlp", "--dataset", "sample", "--epochs", "1", "--hidden-sizes", "16", "--quiet"]


def test_a_watched_mlp_run_prints_the_health_table_and_exposes_its_watcher(capsys):
    run = MLPRun(build_parser().parse_args([*MLP, "--watch", "4"]))
    assert run.run() == 0
    printed = capsys.readouterr().out
    # 1,350 training samples (10% held out) in batches of 64: 22 batches, sampled at 0, 4, ..., 20
    assert "training health (every 4 batches; medians over 6 sampled steps):" in printed
    table = printed.split("training health")[1].splitlines()
    assert table[1].split()[:4] == ["layer", "kind", "act", "mean"]
    assert [line.split()[:2] for line in table[2:6]] == [
        ["0", "Linear"],
        ["1", "ReLU"],
        ["2", "Dropout"],
        ["3", "Linear"],
    ]
    assert table[6] == "no warnings" or table[6].startswith("warning: ")
    assert run.watcher.every == 4 and len(run.watcher.losses) == 22
    assert {record["step"] for record in run.watcher.records} == set(range(0, 22, 4))


def test_watch_without_k_samples_at_the_default_interval_and_no_watch_prints_no_table(capsys):
    run = TrainRun(
        build_parser().parse_args(["train", "lenet", "--dataset", "sample", "--epochs", "1", "--quiet", "--watch"])
    )
    assert run.args.watch == 0
    assert run.run() == 0
    assert f"training health (every {DEFAULT_EVERY} batches" in capsys.readouterr().out
    assert run.watcher.every == DEFAULT_EVERY

    unwatched = MLPRun(build_parser().parse_args(MLP))
    assert unwatched.args.watch is None
    assert unwatched.run() == 0
    assert "training health" not in capsys.readouterr().out and unwatched.watcher is None
