"""The composition root: start-up without torch, the lock message, settings round trip, icon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from t2i_studio.core.project import Project


def _run(code: str, home, timeout=120) -> subprocess.CompletedProcess:
    env = {**os.environ, "T2I_STUDIO_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_the_window_shows_without_importing_torch(tmp_path):
    out = _run("""
        import sys, json
        from t2i_studio import app
        qapp, window = app.build(None, ["t2i-studio"])
        window.show()
        qapp.processEvents()
        result = {"torch": "torch" in sys.modules, "diffusers": "diffusers" in sys.modules,
                  "title": window.windowTitle(), "project": str(window.project.folder),
                  "icon": not qapp.windowIcon().isNull()}
        window.close()
        print(json.dumps(result))
    """, tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["torch"] is False and result["diffusers"] is False
    assert result["title"].endswith("T2I Studio") and result["project"].endswith("default")
    assert result["icon"] is True


def test_a_locked_project_opens_read_only_and_says_so(tmp_path):
    folder = tmp_path / "shared"
    with Project.open(folder, create=True):
        out = _run(f"""
            import json
            from t2i_studio import app
            qapp, window = app.build({str(folder)!r}, ["t2i-studio"])
            bar = window.message_bar
            print(json.dumps({{"read_only": window.project.read_only, "text": bar.text.text(),
                              "kind": bar.kind, "title": window.windowTitle()}}))
            window.close()
        """, tmp_path / "home")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["read_only"] is True and result["kind"] == "info" and "(read-only)" in result["title"]
    assert "read-only: it is open in another window" in result["text"]


def test_settings_are_remembered_between_runs(tmp_path):
    code = """
        import json, sys
        from t2i_studio import app
        qapp, window = app.build(None, ["t2i-studio"])
        p = window.prompt_panel
        if sys.argv[-1] == "write":
            p.prompt.setPlainText("remember me")
            p.steps.setValue(13)
            p.preview_every.setValue(5)
            window.style_panel.strength.setValue(0.8)
            window.close()
        else:
            print(json.dumps({"prompt": p.prompt.toPlainText(), "steps": p.steps.value(),
                              "preview": p.preview_every.value(),
                              "strength": window.style_panel.strength.value(),
                              "project": str(window.project.folder)}))
            window.close()
    """
    env_home = tmp_path / "home"
    first = _run(code.replace('sys.argv[-1] == "write"', "True"), env_home)
    assert first.returncode == 0, first.stderr
    settings = json.loads((env_home / "config" / "settings.json").read_text())
    assert settings["last_generation"]["prompt"] == "remember me" and settings["window_state"]
    second = _run(code.replace('sys.argv[-1] == "write"', "False"), env_home)
    assert second.returncode == 0, second.stderr
    result = json.loads(second.stdout.strip().splitlines()[-1])
    assert result == {"prompt": "remember me", "steps": 13, "preview": 5, "strength": 0.8,
                      "project": settings["last_project"]}


def test_first_run_without_models_says_what_to_do(qtbot, tmp_path):
    from fake_engine import FakeEngine
    from ui_helpers import studio_window

    with studio_window(qtbot, tmp_path / "p", {"generate": FakeEngine}, models=[]) as window:
        qtbot.waitUntil(lambda: window.viewer.notice.isVisible(), timeout=3000)
        assert "Manage models" in window.viewer.notice.text()
        window.prompt_panel.prompt.setPlainText("a cat")
        assert not window.prompt_panel.generate.isEnabled()
        assert "Manage models" in window.prompt_panel.error.text()
        window.generate()  # does nothing, raises nothing
        assert window.runner.jobs() == []
