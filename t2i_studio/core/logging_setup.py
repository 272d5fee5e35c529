"""One logging set-up for the app and the CLI: a rotating file in the log folder, stderr when asked."""

from __future__ import annotations

import logging
import logging.handlers

from t2i_studio.core.settings import log_dir

_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def setup_logging(verbose: bool = False) -> None:
    """Log INFO+ to ``<log dir>/t2i-studio.log``; with ``verbose`` also DEBUG to stderr."""
    root = logging.getLogger()
    if getattr(root, "_t2i_configured", False):
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            folder / "t2i-studio.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        file_handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(file_handler)
    except OSError:  # a read-only home must not stop the app
        pass
    stream = logging.StreamHandler()
    stream.setLevel(logging.DEBUG if verbose else logging.WARNING)
    stream.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if not verbose else _FORMAT))
    root.addHandler(stream)
    root._t2i_configured = True  # type: ignore[attr-defined]
