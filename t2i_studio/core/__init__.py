"""Pure-Python core: requests, the engine protocol, project store, metadata, export, settings.

No PySide6 and no torch here (checked by import-linter)."""
