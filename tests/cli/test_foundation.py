"""The CLI's entry points that the foundation promises: --version, doctor, a cheap import."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from t2i_studio import __version__
from t2i_studio.cli import main


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "t2i_studio", *args], capture_output=True,
                          text=True, timeout=120, env=os.environ.copy())


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exit_:
        assert exit_.code == 0
    assert capsys.readouterr().out.strip() == f"t2i-studio {__version__}"


def test_cli_import_does_not_import_torch_or_qt():
    code = ("import sys, t2i_studio.cli as c; c.build_parser(); "
            "print(sorted(m for m in ('torch','PySide6','diffusers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


def test_doctor_json_offline(app_home):
    result = _cli("doctor", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["app"] == __version__
    assert report["packages"]["torch"].startswith("2.")
    assert report["packages"]["spandrel"] and report["packages"]["dynamicprompts"]  # the editing and steering libraries
    assert report["devices"]["cpu"]["cores"] >= 1
    assert isinstance(report["devices"]["cpu"]["bf16_accelerated"], bool)
    assert report["paths"]["config"].startswith(str(app_home))
    assert report["weights"]["vgg19_imagenet"] is False


def test_doctor_human_report():
    result = _cli("doctor")
    assert result.returncode == 0, result.stderr
    assert "CPU" in result.stdout and "VGG19 (style)" in result.stdout


def test_bad_command_line_gives_usage_error():
    result = _cli("doctor", "--no-such-flag")
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr
