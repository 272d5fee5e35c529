"""Light, dark or the system's colours for the whole app, applied at once.

Qt 6.8+ follows a colour scheme hint where the platform theme honours it; elsewhere (X11 without a
desktop theme, for instance) the hint alone changes nothing, so dark also sets a dark palette of its
own and light the style's standard one; system goes back to the platform's palette.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark"))
_SCHEMES = {"system": Qt.ColorScheme.Unknown, "light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}


def dark_palette() -> QPalette:
    palette = QPalette()
    base, window, text = QColor(30, 30, 32), QColor(45, 45, 48), QColor(225, 225, 225)
    for role, color in ((QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
                        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, window),
                        (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, window),
                        (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.ToolTipBase, base),
                        (QPalette.ColorRole.ToolTipText, text), (QPalette.ColorRole.PlaceholderText, QColor(140, 140, 140)),
                        (QPalette.ColorRole.Highlight, QColor(42, 130, 218)),
                        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
                        (QPalette.ColorRole.Link, QColor(90, 170, 255))):
        palette.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 120, 120))
    return palette


def apply_theme(theme: str) -> None:
    """Colour the running app by ``theme`` ("system", "light" or "dark"; anything else: system)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    theme = theme if theme in _SCHEMES else "system"
    QGuiApplication.styleHints().setColorScheme(_SCHEMES[theme])
    if theme == "dark":
        app.setPalette(dark_palette())
    elif theme == "light":
        app.setPalette(app.style().standardPalette())
    else:
        app.setPalette(QPalette())  # no role set: the platform's own palette again
