"""The gallery's per-item actions, declared as data (``ITEMS``, ``HISTORY``): one QAction each,
shared by the context menu and the keyboard, and listed in the window's shortcut help.

Shortcuts are scoped to the gallery (``WidgetWithChildrenShortcut``), so Ctrl+C or Delete in the
prompt box never touch images. ``GalleryActions.triggered`` hands over the spec of the action that
fired; ``GalleryWidget`` runs it on the selection.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoStack
from PySide6.QtWidgets import QMenu, QWidget

from t2i_studio.ui.actions import ActionSpec, create_actions, fill_menus

_IN_GALLERY = Qt.ShortcutContext.WidgetWithChildrenShortcut


def _item(id_: str, text: str, handler: str, key: str, tip: str, group: int, **more) -> ActionSpec:
    return ActionSpec(id_, text, handler, (key,), tip, menu="", group=group, context=_IN_GALLERY, **more)


# handler "send": the window's signal named by ``data`` gets the current image's id.
ITEMS: tuple[ActionSpec, ...] = (
    _item("open", "&Open", "send", "Return", "Show the image in the viewer", 0, data="entry_activated"),
    _item("reuse_settings", "&Reuse all settings", "send", "Ctrl+R",
          "Fill the prompt panel with every setting of this image", 1, data="reuse_settings"),
    _item("reuse_seed", "Reuse &seed", "send", "Ctrl+Shift+R", "Use this image's seed for the next generation",
          1, data="reuse_seed"),
    _item("use_as_init", "Use as &init image", "send", "Ctrl+I",
          "Start the next generation from this image (img2img)", 1, data="use_as_init"),
    ActionSpec("inpaint", "I&npaint…", "send", (), "Paint a mask over this image and regenerate what it covers",
               menu="", group=1, context=_IN_GALLERY, data="inpaint_requested"),
    _item("stylize", "St&ylize…", "send", "Ctrl+Shift+S", "Restyle this image in the style-transfer panel",
          1, data="stylize_requested"),
    _item("upscale", "&Upscale…", "send", "Ctrl+U", "Upscale this image: by a factor or for a print size", 1,
          data="upscale_requested"),
    _item("favorite", "&Favourite", "favorite", "F", "Mark or unmark as favourite", 2, checkable=True),
    *(ActionSpec(f"rating_{stars}", "★" * stars or "No rating", "rate", (str(stars),),
                 "Rate 1 to 5 stars (0: no rating)", menu="&Rating", group=2, context=_IN_GALLERY,
                 checkable=True, data=stars) for stars in range(6)),
    _item("export", "&Export…", "export", "Ctrl+E", "Export the selected images (format, size, metadata)", 3),
    _item("copy_image", "&Copy image", "copy_image", "Ctrl+C", "Copy the image to the clipboard", 3),
    _item("copy_prompt", "Copy &prompt", "copy_prompt", "Ctrl+Shift+C", "Copy the prompt text to the clipboard", 3),
    _item("show_in_folder", "Show in fol&der", "show_in_folder", "Ctrl+Shift+O",
          "Open the folder that holds the image file", 3),
    _item("delete", "&Delete", "delete", "Del", "Move to the project's trash (undo brings it back)", 4),
)
# Undo and redo of deletes: the undo stack makes these actions (their text names the step).
HISTORY: tuple[ActionSpec, ...] = (
    ActionSpec("undo", "Undo", "undo", ("Ctrl+Z",), "Undo the last delete", context=_IN_GALLERY),
    ActionSpec("redo", "Redo", "redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo what was undone", context=_IN_GALLERY),
)
SINGLE_ONLY = frozenset({"send", "show_in_folder"})  # handlers that act on one image
WRITES = frozenset({"favorite", "rate", "delete"})  # handlers that change the project


class GalleryActions(QObject):
    triggered = Signal(object)  # the ActionSpec of the action that fired

    def __init__(self, owner: QWidget, undo_stack: QUndoStack) -> None:
        super().__init__(owner)
        self.actions: dict[str, QAction] = create_actions(ITEMS, owner, self.triggered.emit)
        self.rating_actions = [self.actions[f"rating_{stars}"] for stars in range(6)]
        ratings = QActionGroup(owner)  # one rating at a time (the owner keeps it)
        for action in self.rating_actions:
            ratings.addAction(action)
        history = {"undo": undo_stack.createUndoAction(owner), "redo": undo_stack.createRedoAction(owner)}
        for spec in HISTORY:
            action = history[spec.id]
            action.setShortcuts([QKeySequence(k) for k in spec.keys])
            action.setShortcutContext(spec.context)
            action.setStatusTip(spec.tip)
            owner.addAction(action)

    def update_for(self, count: int, favorite: bool, rating: int, writable: bool) -> None:
        """Enable what applies to ``count`` selected items; check the current item's state."""
        for spec in ITEMS:
            enabled = count == 1 if spec.handler in SINGLE_ONLY else count >= 1
            self.actions[spec.id].setEnabled(enabled and (writable or spec.handler not in WRITES))
        self.actions["favorite"].setChecked(favorite)
        for stars, action in enumerate(self.rating_actions):
            action.setChecked(stars == rating)

    def hand_key_to_window(self, action_id: str) -> None:
        """Give up this action's keys to a window action that does the same, since two actions on
        one key make Qt run neither; the menu still shows the keys."""
        action = self.actions[action_id]
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setShortcuts([])
        action.setText(f"{action.text()}\t{keys}")

    def build_menu(self, parent: QWidget) -> QMenu:
        menu = QMenu(parent)
        menu.setAccessibleName("Image actions")
        menu.setToolTipsVisible(True)
        menus = fill_menus(menu, ITEMS, self.actions)
        menus["&Rating"].setToolTipsVisible(True)
        return menu
