"""Qt widgets. Never imports torch, diffusers or t2i_studio.engines (checked by import-linter)."""
