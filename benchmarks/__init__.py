"""Speed and memory against PyTorch on the same machine, in the same run: ``python -m benchmarks.<name>``."""
