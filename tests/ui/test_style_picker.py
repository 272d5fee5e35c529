"""The prompt panel's Style picker (applied on submit, previewed in its tooltip, A1111 files imported)
and wildcards hint ("6 variations", "combinatorial: 12 images"); the window saves each image with the
prompt it drew; the wildcards folder in the preferences."""

from __future__ import annotations

import json

import pytest
from fake_engine import FakeEngine
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from ui_helpers import studio_window

from t2i_studio.core import presets
from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.settings import Settings, standard_wildcards_dir, wildcards_dir
from t2i_studio.ui.dialogs.preferences import PreferencesDialog
from t2i_studio.ui.prompt_panel import PromptPanel
from t2i_studio.ui.style_picker import IMPORT, StylePicker

FAKE_MODEL = ModelInfo(id="fake/model", name="fake model", source="hub", family="sd", size_bytes=1)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A private app home whose wildcards folder has animal.txt (three lines)."""
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))
    wildcards_dir().mkdir(parents=True)
    (wildcards_dir() / "animal.txt").write_text("cat\ndog\nfox\n", encoding="utf-8")


def _panel(qtbot) -> PromptPanel:
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_model("fake/model")
    return panel


def _items(picker: StylePicker) -> list[str]:
    return [picker.itemText(i) for i in range(picker.count())]


def test_the_picker_offers_none_and_every_preset_with_a_preview(qtbot):
    presets.save_user([presets.Preset("Mine", "dreamy haze", "sharp")])
    picker = StylePicker()
    qtbot.addWidget(picker)
    assert _items(picker) == ["None", *(p.name for p in presets.shipped()), "Mine", "", IMPORT]
    assert picker.name() == "" and picker.preset() is None and "as typed" in picker.toolTip()
    picker.set_name("Cinematic")
    assert picker.toolTip().startswith("Prompt: cinematic film still of {prompt}")
    assert "\nNegative: cartoon" in picker.toolTip()
    mine = picker.findData("Mine")
    assert picker.itemData(mine, Qt.ItemDataRole.ToolTipRole) == (
        "Prompt: (added after your prompt) dreamy haze\nNegative: sharp")


def test_the_style_is_applied_on_submit_and_remembered(qtbot):
    panel = _panel(qtbot)
    panel.prompt.setPlainText("a lighthouse")
    panel.negative.setPlainText("people")
    panel.style_preset.set_name("Watercolor")
    assert panel.request().prompt == "a lighthouse"  # what the widgets say: the style comes on submit
    with qtbot.waitSignal(panel.generate_requested) as sent:
        panel.submit()
    request = sent.args[0]
    assert request.prompt.startswith("watercolor painting of a lighthouse, soft washes")
    assert request.negative_prompt.startswith("people, photograph, 3d render") and request.template == ""
    state = panel.state()
    other = _panel(qtbot)
    other.load_state(state)
    assert other.style_preset.name() == "Watercolor"


def test_the_hint_counts_variations_and_combinations_and_says_what_is_wrong(qtbot):
    panel = _panel(qtbot)
    hint = panel.wildcards
    panel.prompt.setPlainText("a cat")
    qtbot.wait(2 * 250)
    assert hint.isHidden()
    panel.prompt.setPlainText("a {red|green} __animal__")
    qtbot.waitUntil(lambda: not hint.isHidden() and hint.label.text() == "6 variations", timeout=3000)
    panel.batch_count.setValue(2)
    hint.set_template_mode("combinatorial")
    qtbot.waitUntil(lambda: hint.label.text() == "combinatorial: 12 images", timeout=3000)
    assert panel.request().template_mode == "combinatorial"
    panel.prompt.setPlainText("a __animl__")
    qtbot.waitUntil(lambda: hint.label.text().startswith("No wildcard file for __animl__"), timeout=3000)
    with qtbot.waitSignal(panel.generate_requested) as sent:  # the registry's check refuses it on submit
        panel.submit()
    assert (sent.args[0].prompt, sent.args[0].template) == ("a __animl__", "a __animl__")
    panel.set_request(sent.args[0].replace(prompt="a cat", template_mode="random"))
    assert hint.template_mode() == "random"
    qtbot.waitUntil(hint.isHidden, timeout=3000)


def test_importing_an_a1111_file_chooses_its_first_style(qtbot, tmp_path, monkeypatch):
    styles = tmp_path / "styles.csv"
    styles.write_text('name,prompt\n"Noir, moody","{prompt}, film noir"\n', encoding="utf-8")
    picker = StylePicker()
    qtbot.addWidget(picker)
    picker.set_name("Anime")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_args: ("", ""))
    picker.setCurrentIndex(picker.findText(IMPORT))  # cancelled: the style chosen before stays
    assert picker.name() == "Anime"
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: warnings.append(text))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_args: (str(tmp_path / "gone.csv"), ""))
    picker.setCurrentIndex(picker.findText(IMPORT))
    assert picker.name() == "Anime" and len(warnings) == 1
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_args: (str(styles), ""))
    picker.setCurrentIndex(picker.findText(IMPORT))
    assert picker.name() == "Noir, moody" and [p.name for p in presets.user_presets()] == ["Noir, moody"]


def test_the_window_saves_each_image_with_the_prompt_it_drew(qtbot, tmp_path):
    engine = FakeEngine(step_s=0.0)
    with studio_window(qtbot, tmp_path / "proj", {"generate": lambda: engine}, models=[FAKE_MODEL]) as win:
        panel = win.prompt_panel
        panel.size.set_size(64, 64)
        panel.steps.setValue(1)
        panel.batch_size.setValue(3)
        panel.prompt.setPlainText("a {red|green|blue} __animal__")
        panel.style_preset.set_name("Line art")
        with qtbot.waitSignal(win.runner.job_finished, timeout=10_000) as finished:
            panel.submit()
        entries = [win.project.get(entry_id) for entry_id in finished.args[1]]
    template = "line art drawing of a {red|green|blue} __animal__, clean black ink lines, minimal, white " \
               "background, no shading"
    assert len(entries) == 3 and all(e.params["request"]["template"] == template for e in entries)
    assert all(e.prompt.startswith("line art drawing of a ") and "{" not in e.prompt for e in entries)
    assert [e.seed for e in entries] == [entries[0].seed + k for k in range(3)]


def test_the_wildcards_folder_is_a_preference(qtbot, tmp_path):
    mine = tmp_path / "my wildcards"
    with studio_window(qtbot, tmp_path / "proj", {"generate": FakeEngine}) as win:
        win.actions_by_id["preferences"].trigger()
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, PreferencesDialog) and w.isVisible())
        assert dialog.wildcard_folder.placeholderText() == str(standard_wildcards_dir())
        dialog.wildcard_folder.setText(str(mine))
        dialog.wildcard_folder.editingFinished.emit()
        dialog.close()
    assert json.loads(Settings.path().read_text(encoding="utf-8"))["wildcard_folder"] == str(mine)
    assert wildcards_dir() == mine
