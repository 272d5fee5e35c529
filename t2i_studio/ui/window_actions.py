"""The main window's actions as data (``WINDOW_ACTIONS``): its menus, its shortcuts and the
keyboard-shortcut help (with the gallery's item shortcuts, from ``gallery_menu``) all come from it.

A handler is an attribute path on the window ("session.new_project", "viewer.view.fit"), looked
up when the action runs.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction

from t2i_studio import APP_NAME
from t2i_studio.ui.actions import (
    ActionSpec, HelpRow, MenuSlot, Row, create_actions, fill_menus, help_rows, rows_html, rows_markdown,
)
from t2i_studio.ui.gallery_menu import HISTORY, ITEMS

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from t2i_studio.ui.gallery_menu import GalleryActions

WINDOW_ACTIONS: tuple[Row, ...] = (
    ActionSpec("generate", "Generate", "generate", ("Ctrl+Return", "Ctrl+Enter"),
               "Generate from the prompt panel (from anywhere in the window)"),
    ActionSpec("stylize", "Stylize", "stylize", ("Ctrl+Shift+Return", "Ctrl+Shift+Enter"),
               "Stylize with the style panel"),
    ActionSpec("cancel", "Cancel job", "jobs.cancel_current", ("Esc",), "Cancel the running job"),
    ActionSpec("new_project", "&New project…", "session.new_project", ("Ctrl+N",), "Create a project folder",
               menu="&Project"),
    ActionSpec("open_project", "&Open project…", "session.open_project", ("Ctrl+O",), "Open a project folder",
               menu="&Project"),
    MenuSlot("recent_projects", "&Project", "session.fill_recent_menu", text="Open &recent"),
    ActionSpec("export", "&Export selected…", "entries.export_selected", ("Ctrl+E",),
               "Export the selected images (format, size, metadata)", menu="&Project", group=1),
    ActionSpec("quit", "&Quit", "close", ("Ctrl+Q",), f"Quit {APP_NAME}", menu="&Project", group=2),
    ActionSpec("preferences", "&Preferences…", "show_preferences", ("Ctrl+,",),
               "The app's defaults: theme, default project, device, precision, previews, thumbnails",
               menu="&Edit"),
    ActionSpec("upscale", "&Upscale…", "entries.upscale_selected", ("Ctrl+U",),
               "Upscale the selected image: by a factor or for a print size, adding detail if you like",
               menu="&Image"),
    ActionSpec("upscale_file", "Upscale a &file…", "entries.upscale_file",
               tip="Upscale an image file from disk into the project", menu="&Image"),
    ActionSpec("xyz_plot", "&X/Y/Z plot…", "xyz_plot",
               tip="Sweep up to three of the Generate panel's settings into a labelled grid of images",
               menu="&Image", group=1),
    ActionSpec("manage_models", "&Manage models…", "manage_models", ("Ctrl+M",),
               "Download or add text-to-image models", menu="&Models"),
    ActionSpec("manage_upscalers", "&Upscalers…", "manage_upscalers",
               tip="Add or remove upscaler models (ESRGAN and the like)", menu="&Models"),
    ActionSpec("manage_servers", "ComfyUI &servers…", "manage_servers",
               tip="Add, edit, remove or check the ComfyUI servers jobs can run on", menu="&Models"),
    ActionSpec("reload_models", "&Reload model list", "refresh_models", tip="Look for models again",
               menu="&Models"),
    MenuSlot("panels", "&View", "add_dock_toggles"),
    ActionSpec("fit", "&Fit image", "viewer.view.fit", ("Ctrl+0",),
               "Viewer: fit the image to the window (the wheel zooms, drag pans)", menu="&View", group=1),
    ActionSpec("actual_size", "&Actual size", "viewer.view.actual_size", ("Ctrl+1",),
               "Viewer: show the image at its actual size", menu="&View", group=1),
    ActionSpec("shortcuts", "&Keyboard shortcuts", "show_shortcuts", tip="List the keyboard shortcuts",
               menu="&Help"),
    ActionSpec("about", "&About T2I Studio", "show_about", tip=f"Which version of {APP_NAME} this is",
               menu="&Help"),
)
# The gallery's Export and Upscale run what the window's run, on the same selection: the window's keys win.
_KEYS_HANDED_TO_WINDOW = ("export", "upscale")


def install_actions(window: QMainWindow, gallery_actions: GalleryActions) -> dict[str, QAction]:
    """Create the window's actions and menus; returns the actions by id."""
    actions = create_actions(WINDOW_ACTIONS, window, lambda spec: attrgetter(spec.handler)(window)())
    fill_menus(window.menuBar(), WINDOW_ACTIONS, actions, lambda slot: attrgetter(slot.handler)(window))
    for action_id in _KEYS_HANDED_TO_WINDOW:
        gallery_actions.hand_key_to_window(action_id)
    return actions


def shortcut_rows() -> list[HelpRow]:
    """The window's shortcuts, then the gallery's (but not those it hands to the window)."""
    rows = help_rows(WINDOW_ACTIONS)
    taken = {key for keys, _text in rows for key in keys}
    gallery = help_rows(ITEMS + HISTORY, describe=lambda tip: f"Gallery: {tip[0].lower()}{tip[1:]}")
    return rows + [(keys, text) for keys, text in gallery if not set(keys) <= taken]


def shortcuts_html() -> str:
    return rows_html(shortcut_rows())


def shortcuts_markdown() -> str:
    """The README's key table."""
    return rows_markdown(shortcut_rows())
