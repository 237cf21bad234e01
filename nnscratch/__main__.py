"""``python -m nnscratch`` is the ``nnscratch`` command."""

import sys

from .cli import main

sys.exit(main())
