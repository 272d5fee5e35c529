"""Actions declared as data: one ``ActionSpec`` row says what an action is called, which keys run
it, what it does (the status tip, also its line in the shortcut help), which menu lists it and
what it runs; ``MenuSlot`` marks a place in a menu that its owner fills. From one table come the
QActions (``create_actions``), the menus (``fill_menus``) and the help rows (``help_rows``), so no
binding is written down twice.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget


@dataclass(frozen=True)
class ActionSpec:
    """One action. ``handler`` names what it runs; the table's owner resolves the name.
    ``menu`` is a path below the root menu ("" is the root itself, "a/b" a submenu of "a"),
    or None for an action reached by its keys only; a separator goes between ``group``s of a menu."""

    id: str
    text: str
    handler: str
    keys: tuple[str, ...] = ()
    tip: str = ""
    menu: str | None = None
    group: int = 0
    context: Qt.ShortcutContext = Qt.ShortcutContext.WindowShortcut
    checkable: bool = False
    data: Any = None  # handed to the handler by owners that take an argument (a rating, a signal name)


@dataclass(frozen=True)
class MenuSlot:
    """A place in a menu filled by the owner's ``handler(menu)``: with ``text``, a submenu refilled
    each time it opens (recent projects); without, the menu itself, once, at this place."""

    id: str
    menu: str
    handler: str
    text: str = ""
    group: int = 0


Row = ActionSpec | MenuSlot


def create_actions(specs: Iterable[Row], owner: QWidget, run: Callable[[ActionSpec], None]) -> dict[str, QAction]:
    """A QAction per spec, added to ``owner`` (its keys work wherever ``context`` says around it);
    triggering one calls ``run(spec)``."""
    actions: dict[str, QAction] = {}
    for spec in specs:
        if not isinstance(spec, ActionSpec):
            continue
        action = QAction(spec.text, owner)
        action.setObjectName(spec.id)
        action.setShortcuts([QKeySequence(k) for k in spec.keys])
        action.setShortcutContext(spec.context)
        action.setCheckable(spec.checkable)
        if spec.tip:
            action.setToolTip(spec.tip)
            action.setStatusTip(spec.tip)
        action.triggered.connect(lambda _checked=False, s=spec: run(s))
        owner.addAction(action)
        actions[spec.id] = action
    return actions


def fill_menus(root: QMenuBar | QMenu, rows: Iterable[Row], actions: dict[str, QAction],
               fill: Callable[[MenuSlot], Callable[[QMenu], None]] | None = None) -> dict[str, QMenu | QMenuBar]:
    """Add each row to its menu under ``root`` in table order (menus appear where first named);
    ``fill(slot)`` gives the function that fills a ``MenuSlot``. Returns the menus by path."""
    menus: dict[str, QMenu | QMenuBar] = {"": root}
    last_group: dict[str, int] = {}

    def place(path: str, group: int) -> QMenu | QMenuBar:
        """The menu at ``path``, with a separator before this row if it starts a new group there."""
        if path not in menus:
            parent_path, _, title = path.rpartition("/")
            menus[path] = place(parent_path, group).addMenu(title)
        elif last_group.get(path, group) != group:
            menus[path].addSeparator()
        last_group[path] = group
        return menus[path]

    for row in rows:
        if row.menu is None:
            continue
        menu = place(row.menu, row.group)
        if isinstance(row, ActionSpec):
            menu.addAction(actions[row.id])
            continue
        assert fill is not None, f"menu slot {row.id!r} needs a fill function"
        if row.text:
            sub, refill = menu.addMenu(row.text), fill(row)
            sub.aboutToShow.connect(lambda s=sub, f=refill: f(s))
        else:
            fill(row)(menu)  # type: ignore[arg-type]
    return menus


def key_text(keys: Iterable[str], fmt: QKeySequence.SequenceFormat = QKeySequence.SequenceFormat.PortableText) -> str:
    """The keys as a person reads them: Return and keypad Enter are both "Enter"; a run of digit
    keys is one range ("0–5")."""
    names = list(dict.fromkeys(QKeySequence(k).toString(fmt).replace("Return", "Enter") for k in keys))
    if len(names) > 2 and all(len(n) == 1 and n.isdigit() for n in names):
        return f"{names[0]}–{names[-1]}"
    return " / ".join(names)


HelpRow = tuple[tuple[str, ...], str]  # keys, what they do


def help_rows(specs: Iterable[Row], describe: Callable[[str], str] = str) -> list[HelpRow]:
    """One row per description of the actions that have keys: actions sharing a tip share a row."""
    rows: dict[str, list[str]] = {}
    for spec in specs:
        if isinstance(spec, ActionSpec) and spec.keys:
            rows.setdefault(describe(spec.tip or spec.text.replace("&", "")), []).extend(spec.keys)
    return [(tuple(keys), text) for text, keys in rows.items()]


def rows_html(rows: Iterable[HelpRow]) -> str:
    cells = "".join(f"<tr><td><b>{html.escape(key_text(keys, QKeySequence.SequenceFormat.NativeText))}</b></td>"
                    f"<td>{html.escape(text)}</td></tr>" for keys, text in rows)
    return f"<table cellspacing='6'>{cells}</table>"


def rows_markdown(rows: Iterable[HelpRow]) -> str:
    lines = ["| keys | action |", "| --- | --- |"]
    lines += [f"| {key_text(keys)} | {text} |" for keys, text in rows]
    return "\n".join(lines) + "\n"
