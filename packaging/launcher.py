"""Entry script of the PyInstaller bundle: the same ``main`` as the ``t2i-studio`` console script."""

import sys

from t2i_studio.cli import main

if __name__ == "__main__":
    sys.exit(main())
