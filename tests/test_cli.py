import subprocess
import sys

import pytest

from nnscratch.cli import main


def test_datasets_lists_every_dataset_with_location_and_checksums(capsys, isolated_data_dirs):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "fashion-mnist" in out and "apt-get install dataset-fashion-mnist" in out
    assert "mnist" in out and "nnscratch download mnist" in out
    sample_line = next(line for line in out.splitlines() if line.startswith("sample"))
    assert "1,500" in sample_line and "500" in sample_line and "1x28x28" in sample_line
    assert out.count("verified") == 4


def test_download_refuses_unknown_datasets_before_any_work(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["download", "imagenet"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'imagenet'" in capsys.readouterr().err


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit):
        main([])
    assert "COMMAND" in capsys.readouterr().err


def test_a_reader_that_stops_early_gets_no_error_line_and_exit_141():
    # `nnscratch summary ... | head -1`: the reader closes the pipe, the next print fails. Closing it
    # before the command writes anything makes that certain, not a race with the pipe's buffer.
    command = [sys.executable, "-c", "from nnscratch.cli import main; raise SystemExit(main())"]
    command += ["summary", "lenet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141 and stderr == ""
