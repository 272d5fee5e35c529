"""Engines: everything that touches torch lives here. No PySide6 (checked by import-linter)."""
