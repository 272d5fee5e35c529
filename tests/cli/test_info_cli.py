"""``t2i-studio info IMAGE [--json]``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from PIL import Image, PngImagePlugin
from request_builder import gen_request

from t2i_studio.cli import main
from t2i_studio.core.engine import Result
from t2i_studio.core.project import Project


def test_info_of_our_image(tmp_path, capsys):
    request = gen_request(prompt="a lighthouse, dusk: 灯台", model="m/tiny", seed=11)
    with Project.create(tmp_path / "p") as project:
        [entry] = project.save_result(request, Result(images=[Image.new("RGB", (16, 8))], seeds=[11],
                                                      fingerprint={"device": "cpu", "dtype": "float32"}))
    assert main(["info", str(entry.path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"] == "t2i_studio" and data["seed"] == 11 and data["request"] == request.to_dict()
    assert "Seed: 11" in data["parameters"] and (data["width"], data["height"]) == (16, 8)
    assert main(["info", str(entry.path)]) == 0
    out = capsys.readouterr().out
    assert "T2I Studio" in out and "灯台" in out and "cpu / float32" in out


def test_info_of_foreign_and_plain_and_missing(tmp_path, capsys):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 512x512")
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png", pnginfo=info)
    Image.new("RGB", (8, 8)).save(tmp_path / "plain.png")
    assert main(["info", str(tmp_path / "a.png")]) == 0
    assert "AUTOMATIC1111" in capsys.readouterr().out
    assert main(["info", str(tmp_path / "plain.png")]) == 0
    assert "No generation settings" in capsys.readouterr().out
    assert main(["info", str(tmp_path / "missing.png")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_info_subprocess_json(tmp_path):
    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\xff" * 100)
    result = subprocess.run([sys.executable, "-m", "t2i_studio", "info", str(tmp_path / "junk.png"), "--json"],
                            capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "none"
