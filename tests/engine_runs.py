"""An engine run as the app makes it (the registry's check first, then the run), and its first
picture's pixels as signed integers, for comparing results."""

from __future__ import annotations

import numpy as np

from t2i_studio.core.engine import CancelToken
from t2i_studio.engines.registry import local_registry


def checked_run(engine, request):  # noqa: ANN001, ANN201
    local_registry().check(request)
    return engine.run(request, lambda p: None, CancelToken())


def first_pixels(result) -> np.ndarray:  # noqa: ANN001
    return np.asarray(result.images[0]).astype(np.int16)
