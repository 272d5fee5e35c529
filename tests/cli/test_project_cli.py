"""``t2i-studio project new|info|search|rebuild|check|empty-trash``."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from PIL import Image
from request_builder import gen_request

from t2i_studio.cli import main
from t2i_studio.core.engine import Result
from t2i_studio.core.project import Project


def _fill(folder: Path) -> list:
    with Project.open(folder) as project:
        out = []
        for k, prompt in enumerate(["a red fox, oil", "blue whale", "fox cub 🦊"]):
            request = gen_request(prompt=prompt, model="m/tiny", seed=k)
            out += project.save_result(request, Result(images=[Image.new("RGB", (16, 16))], seeds=[k]))
        project.set_favorite(out[2].id, True)
        project.delete([out[1].id])
    return out


def test_new_info_search(tmp_path, capsys):
    folder = tmp_path / "proj"
    assert main(["project", "new", str(folder), "--name", "My work"]) == 0
    assert "Created project 'My work'" in capsys.readouterr().out
    assert main(["project", "new", str(folder)]) == 2
    assert "already a project" in capsys.readouterr().err
    entries = _fill(folder)
    assert main(["project", "info", str(folder), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["name"], info["entries"], info["in_trash"], info["favorites"]) == ("My work", 2, 1, 1)
    assert info["models"] == ["m/tiny"]
    assert main(["project", "info", str(folder)]) == 0
    assert "Entries  2" in capsys.readouterr().out
    assert main(["project", "search", str(folder), "fox", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [e["id"] for e in found] == [entries[2].id, entries[0].id]
    assert set(found[0]) >= {"path", "seed", "prompt"} and found[0]["prompt"] == "fox cub 🦊"
    assert main(["project", "search", str(folder), "fox", "--favorites", "--limit", "5"]) == 0
    out = capsys.readouterr()
    assert "fox cub" in out.out and "a red fox" not in out.out and "1 of 1" in out.err


def test_rebuild_check_empty_trash(tmp_path, capsys):
    folder = tmp_path / "proj"
    Project.create(folder).close()
    entries = _fill(folder)
    (folder / "index.sqlite").unlink()
    assert main(["project", "rebuild", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"entries": 3}
    entries[0].path.unlink()
    assert main(["project", "check", str(folder)]) == 1
    assert "1 entries whose file is missing" in capsys.readouterr().out
    assert main(["project", "check", str(folder), "--repair", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["repaired"] is True
    assert main(["project", "check", str(folder)]) == 0
    assert "consistent" in capsys.readouterr().out
    assert main(["project", "empty-trash", str(folder)]) == 0
    assert "Deleted 1 entries" in capsys.readouterr().out


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rebuild_and_check_show_progress_on_a_terminal_only(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "proj"
    Project.create(folder).close()
    _fill(folder)
    assert main(["project", "rebuild", str(folder)]) == 0
    assert "Reading images" not in capsys.readouterr().err  # not a terminal: no bar
    for argv, label in ((["project", "rebuild", str(folder)], "Reading images"),
                        (["project", "check", str(folder)], "Checking images")):
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        assert main(argv) == 0
        monkeypatch.undo()
        drawn = terminal.getvalue()
        assert f"\r{label} [" in drawn and " 3/3 " in drawn and drawn.endswith("\n")
        assert "entries" in capsys.readouterr().out  # the result still goes to stdout


def test_errors_are_clear(tmp_path, capsys):
    assert main(["project", "info", str(tmp_path / "none")]) == 2
    assert "not a T2I Studio project" in capsys.readouterr().err
    folder = tmp_path / "proj"
    holder = Project.create(folder)
    try:
        assert main(["project", "rebuild", str(folder)]) == 2
        assert "already open in another window (pid" in capsys.readouterr().err
        assert main(["project", "search", str(folder), "x"]) == 0  # read-only works meanwhile
    finally:
        holder.close()
