"""The gallery's per-item actions: one QAction each, shared by the context menu and the keyboard.

Shortcuts are scoped to the gallery (``WidgetWithChildrenShortcut``), so Ctrl+C or Delete in the
prompt box never touch images. ``GalleryActions.triggered`` names the action that fired.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

# name, label, shortcut, tooltip
_ITEMS: tuple[tuple[str, str, str | QKeySequence.StandardKey, str], ...] = (
    ("open", "&Open", "Return", "Show the image in the viewer"),
    ("reuse_settings", "&Reuse all settings", "Ctrl+R", "Fill the prompt panel with every setting of this image"),
    ("reuse_seed", "Reuse &seed", "Ctrl+Shift+R", "Use this image's seed for the next generation"),
    ("use_as_init", "Use as &init image", "Ctrl+I", "Start the next generation from this image (img2img)"),
    ("stylize", "St&ylize…", "Ctrl+Shift+S", "Restyle this image in the style-transfer panel"),
    ("favorite", "&Favourite", "F", "Mark or unmark as favourite"),
    ("export", "&Export…", "Ctrl+E", "Export the selected images (format, size, metadata)"),
    ("copy_image", "&Copy image", QKeySequence.StandardKey.Copy, "Copy the image to the clipboard"),
    ("copy_prompt", "Copy &prompt", "Ctrl+Shift+C", "Copy the prompt text to the clipboard"),
    ("show_in_folder", "Show in fol&der", "Ctrl+Shift+O", "Open the folder that holds the image file"),
    ("delete", "&Delete", QKeySequence.StandardKey.Delete, "Move to the project's trash (Ctrl+Z restores)"),
)
SINGLE_ONLY = frozenset({"open", "reuse_settings", "reuse_seed", "use_as_init", "stylize", "show_in_folder"})


class GalleryActions(QObject):
    triggered = Signal(str)  # action name
    rating_chosen = Signal(int)  # 0..5

    def __init__(self, owner: QWidget) -> None:
        super().__init__(owner)
        self.actions: dict[str, QAction] = {}
        for name, label, shortcut, tip in _ITEMS:
            action = QAction(label, owner)
            action.setObjectName(f"gallery_{name}")
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(tip)
            action.setStatusTip(tip)
            action.triggered.connect(lambda _checked=False, n=name: self.triggered.emit(n))
            owner.addAction(action)
            self.actions[name] = action
        self.actions["favorite"].setCheckable(True)
        self.rating_group = QActionGroup(owner)
        self.rating_actions: list[QAction] = []
        for stars in range(6):
            label = "No rating" if stars == 0 else "★" * stars
            action = QAction(label, owner)
            action.setObjectName(f"gallery_rating_{stars}")
            action.setCheckable(True)
            action.setShortcut(QKeySequence(str(stars)))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"Rate {stars} of 5 (key {stars})")
            action.triggered.connect(lambda _checked=False, s=stars: self.rating_chosen.emit(s))
            self.rating_group.addAction(action)
            owner.addAction(action)
            self.rating_actions.append(action)

    def update_for(self, count: int, favorite: bool, rating: int, writable: bool) -> None:
        """Enable what applies to ``count`` selected items; check the current item's state."""
        for name, action in self.actions.items():
            action.setEnabled(count == 1 if name in SINGLE_ONLY else count >= 1)
        for name in ("favorite", "delete"):
            self.actions[name].setEnabled(count >= 1 and writable)
        self.actions["favorite"].setChecked(favorite)
        for stars, action in enumerate(self.rating_actions):
            action.setEnabled(count >= 1 and writable)
            action.setChecked(stars == rating)

    def build_menu(self, parent: QWidget) -> QMenu:
        menu = QMenu(parent)
        menu.setAccessibleName("Image actions")
        a = self.actions
        menu.addAction(a["open"])
        menu.addSeparator()
        for name in ("reuse_settings", "reuse_seed", "use_as_init", "stylize"):
            menu.addAction(a[name])
        menu.addSeparator()
        menu.addAction(a["favorite"])
        rating = menu.addMenu("&Rating")
        rating.setToolTipsVisible(True)
        for action in self.rating_actions:
            rating.addAction(action)
        menu.addSeparator()
        for name in ("export", "copy_image", "copy_prompt", "show_in_folder"):
            menu.addAction(a[name])
        menu.addSeparator()
        menu.addAction(a["delete"])
        menu.setToolTipsVisible(True)
        return menu
