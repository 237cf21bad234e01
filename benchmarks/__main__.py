"""``python -m benchmarks``: the throughput benchmark (see ``benchmarks/throughput.py``)."""

import sys

from benchmarks.throughput import main

sys.exit(main())
