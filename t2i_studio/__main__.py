"""``python -m t2i_studio``: the same entry point as the ``t2i-studio`` console script."""

import sys

from t2i_studio.cli import main

sys.exit(main())
