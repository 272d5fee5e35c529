"""The built-in starter model: a small text-conditioned GAN trained by this project (see
resources/starter/MODEL_CARD.md). This package's root imports no torch: the catalog and the
registry name the model and find its weights without loading them."""

from pathlib import Path

from t2i_studio.core.starter_words import ENGINE as ENGINE  # re-exported: what requests name

MODEL_ID = "starter"
NAME = "Starter (built in)"
WEIGHTS = Path(__file__).resolve().parents[2] / "resources" / "starter" / "starter.safetensors"
