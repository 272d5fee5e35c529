"""Models ▸ ComfyUI servers: the servers jobs can run on (``core.servers``), added, edited, removed and
checked, each change saved into the settings at once.

A token or password goes to the OS keyring through ``core.servers``, never into the settings file.
Asking a server what it has is the engines' to do: the composition root hands in ``check(config) ->
{"comfyui_version", "device", "checkpoints", ...}``, which raises when the server does not answer; it
runs on a ``BackgroundTask``, never on the GUI thread. ``servers_changed`` tells the window to hand
the new list to its server pool and list the models again.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QMessageBox,
    QPushButton, QTableWidgetItem, QVBoxLayout, QWidget,
)

from t2i_studio.core import servers
from t2i_studio.core.engine import CancelToken
from t2i_studio.core.errors import describe as user_message
from t2i_studio.core.servers import ServerConfig
from t2i_studio.ui.controls import list_table
from t2i_studio.worker.tasks import BackgroundTask

Check = Callable[[ServerConfig], dict[str, Any]]
_AUTH_LABELS = {"none": "None", "bearer": "Bearer token", "basic": "User name and password"}


def summary(found: dict[str, Any]) -> str:
    """A check's answer in one line: "online: ComfyUI 0.3.64 on cpu, 3 checkpoints"."""
    count = int(found.get("checkpoints") or 0)
    return (f"online: ComfyUI {found.get('comfyui_version') or '?'} on {found.get('device') or '?'}, "
            f"{count} checkpoint{'' if count == 1 else 's'}")


class ServerEditDialog(QDialog):
    """One server's address, name, sign-in and TLS switch; ``save(config, secret)`` runs on OK, and what
    it raises is shown here, the dialog staying open."""

    def __init__(self, save: Callable[[ServerConfig, str | None], None], server: ServerConfig | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._save = save
        self._stored_auth = server.auth if server else "none"  # its secret is kept unless one is typed
        self.setWindowTitle("Edit server" if server else "Add server")
        self.url = QLineEdit(server.url if server else "", self)
        self.url.setPlaceholderText("http://192.168.1.20:8188 or https://gpu.example.com")
        self.url.setAccessibleName("Server address")
        self.name = QLineEdit(server.name if server else "", self)
        self.name.setPlaceholderText("shown with its models (default: the address)")
        self.name.setAccessibleName("Server name")
        self.auth = QComboBox(self)
        for kind in servers.AUTH_KINDS:
            self.auth.addItem(_AUTH_LABELS[kind], kind)
        self.auth.setCurrentIndex(max(0, self.auth.findData(server.auth if server else "none")))
        self.username = QLineEdit(server.username if server else "", self)
        self.username.setAccessibleName("User name")
        self.secret = QLineEdit(self)
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("Token or password")
        self.verify_tls = QCheckBox("Verify the TLS certificate (clear only for a self-signed server you trust)",
                                    self)
        self.verify_tls.setChecked(server.verify_tls if server else True)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Why the server was not saved")
        form = QFormLayout()
        form.addRow("Address", self.url)
        form.addRow("Name", self.name)
        form.addRow("Sign-in", self.auth)
        form.addRow("User name", self.username)
        form.addRow("Token / password", self.secret)
        form.addRow("", self.verify_tls)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.auth.currentIndexChanged.connect(self._auth_changed)
        self._auth_changed()

    def _auth_changed(self) -> None:
        kind = str(self.auth.currentData())
        self.username.setEnabled(kind == "basic")
        self.secret.setEnabled(kind != "none")
        what = "token" if kind == "bearer" else "password"
        if kind == "none":
            self.secret.setPlaceholderText("")
        elif kind == self._stored_auth:
            self.secret.setPlaceholderText(f"in the keyring: leave empty to keep the stored {what}")
        else:
            self.secret.setPlaceholderText(f"the {what}, kept in the OS keyring")

    def accept(self) -> None:
        kind = str(self.auth.currentData())
        try:
            username = self.username.text().strip() if kind == "basic" else ""
            config = ServerConfig(self.url.text(), self.name.text().strip(), kind, username,
                                  self.verify_tls.isChecked())
            self._save(config, self.secret.text() or None)
        except Exception as exc:  # noqa: BLE001 - a bad address or a locked keyring: said here, fixable
            self.error.setText(user_message(exc).text)
            return
        super().accept()


class ServersDialog(QDialog):
    servers_changed = Signal()

    def __init__(self, settings: Any, check: Check | None = None, states: dict[str, str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self._check = check
        self.states = states if states is not None else {}  # url -> last known state (the window keeps it)
        self._servers: list[ServerConfig] = []
        self._checking: BackgroundTask | None = None
        self._checked: ServerConfig | None = None
        self.setWindowTitle("ComfyUI servers")
        self.resize(760, 360)

        self.table = list_table(self, ["Name", "Address", "Sign-in", "TLS", "State"], "ComfyUI servers", 4,
                                single=True, fit=True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.edit_selected())
        self.add_button = QPushButton("&Add…", self)
        self.add_button.setToolTip("Add a ComfyUI server jobs can run on")
        self.add_button.clicked.connect(self.add_server)
        self.edit_button = QPushButton("&Edit…", self)
        self.edit_button.clicked.connect(self.edit_selected)
        self.remove_button = QPushButton("&Remove…", self)
        self.remove_button.setToolTip("Remove the selected server and its secret from the keyring")
        self.remove_button.clicked.connect(self.remove_selected)
        self.check_button = QPushButton("&Check", self)
        self.check_button.setToolTip("Ask the selected server whether it answers, and what it has"
                                     if check else "Checking needs the engines, which this session does not have")
        self.check_button.clicked.connect(self.check_selected)
        row = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.remove_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.check_button)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Server status")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.reload()

    # -- the list ---------------------------------------------------------------------------------
    def reload(self) -> list[ServerConfig]:
        self._servers = servers.configured(self.settings)
        self.table.setRowCount(len(self._servers))
        for row, server in enumerate(self._servers):
            auth = f"basic as {server.username}" if server.auth == "basic" else server.auth
            state = self.states.get(server.url, "not checked")
            cells = (server.label, server.url, auth, "verified" if server.verify_tls else "not verified", state)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        if not self._servers:
            self.status.setText("No servers yet: add one to run jobs on a ComfyUI server (here or elsewhere).")
        self._update_buttons()
        return self._servers

    def selected(self) -> ServerConfig | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        return self._servers[rows.pop()] if len(rows) == 1 else None

    def select(self, url: str) -> None:
        row = next((i for i, s in enumerate(self._servers) if s.url == url), -1)
        if row >= 0:
            self.table.selectRow(row)

    def _update_buttons(self) -> None:
        chosen = self.selected() is not None
        self.edit_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)
        self.check_button.setEnabled(chosen and self._check is not None and self._checking is None)

    def _changed(self, text: str, url: str | None = None) -> None:
        self.reload()
        self.status.setText(text)
        self.status.setToolTip("")
        if url:
            self.select(url)
        self.servers_changed.emit()

    # -- adding, editing, removing ----------------------------------------------------------------
    def edit_server(self, old: ServerConfig | None) -> ServerEditDialog:
        """The editor for ``old`` (None: a new server), not yet shown; tests fill and accept it."""
        return ServerEditDialog(lambda new, secret: self._save(old, new, secret), old, self)

    def add_server(self) -> None:
        self.edit_server(None).open()

    def edit_selected(self) -> None:
        server = self.selected()
        if server is not None:
            self.edit_server(server).open()

    def _save(self, old: ServerConfig | None, new: ServerConfig, secret: str | None) -> None:
        if old is not None and secret is None and new.auth == old.auth:
            secret = old.secret()  # the stored one, kept
        if old is not None and old.url == new.url and old.auth != "none" and new.auth == "none":
            servers.remove(self.settings, old.url)  # its secret goes with it; adding without one cannot fail
        servers.add(self.settings, new, secret)
        if old is not None and old.url != new.url:
            servers.remove(self.settings, old.url)
            self.states.pop(old.url, None)
        self.states.pop(new.url, None)  # what was known is of the old settings
        self._changed(f"Saved {new.label} ({new.url}).", new.url)

    def remove_selected(self) -> None:
        server = self.selected()
        if server is None or not self.confirm(
                "Remove server?", f"Remove {server.label} ({server.url})? Its models leave the model list"
                                  f"{' and its secret leaves the keyring' if server.auth != 'none' else ''}."):
            return
        try:
            servers.remove(self.settings, server.url)
        except Exception as exc:  # noqa: BLE001 - a locked keyring: said in the dialog
            self.reload()
            self.status.setText(f"Could not remove {server.label}: {user_message(exc).text}")
            return
        self.states.pop(server.url, None)
        self._changed(f"Removed {server.label}.")

    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes/no question (tests replace this)."""
        buttons = QMessageBox.StandardButton
        return QMessageBox.question(self, title, text, buttons.Yes | buttons.No, buttons.No) == buttons.Yes

    # -- checking ---------------------------------------------------------------------------------
    def check_selected(self) -> None:
        server, check = self.selected(), self._check
        if server is None or check is None or self._checking is not None:
            return

        def ask(_report: Callable[[Any], None], _cancel: CancelToken) -> dict[str, Any]:
            return check(server)

        self._checked = server
        self.status.setText(f"Asking {server.label}…")
        task = BackgroundTask(ask, self)
        task.succeeded.connect(self._answered)
        task.failed.connect(self._not_answered)
        task.done.connect(self._check_done)
        self._checking = task
        task.start()
        self._update_buttons()

    def _answered(self, found: dict[str, Any]) -> None:
        assert self._checked is not None
        self._show_state(self._checked, summary(found), "")

    def _not_answered(self, message: str, details: str) -> None:
        assert self._checked is not None
        self._show_state(self._checked, f"offline: {message}", details)

    def _show_state(self, server: ServerConfig, state: str, details: str) -> None:
        self.states[server.url] = state
        self.reload()
        self.select(server.url)
        self.status.setText(f"{server.label}: {state}")
        self.status.setToolTip(details)

    def _check_done(self) -> None:
        task = self.sender()  # not a lambda holding the task: PySide would keep it alive
        assert isinstance(task, BackgroundTask)
        task.setParent(None)  # Python owns it now: freed once the last reference goes
        self._checking = None
        self._update_buttons()

    def is_busy(self) -> bool:
        return self._checking is not None

    def done(self, result: int) -> None:  # every way of closing ends here: wait for a check under way
        if self._checking is not None:
            self._checking.cancel()
            self._checking.wait()
        super().done(result)
