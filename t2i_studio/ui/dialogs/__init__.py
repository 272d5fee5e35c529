"""Dialogs of the studio window."""
