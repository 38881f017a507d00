"""``python -m evaluator``: the evaluation worker's command line (and ``make-tiny-model DIR``)."""

import sys

from evaluator.cli import main

sys.exit(main())
