"""``t2i-studio export ENTRY_OR_FILE ... --format ...``."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from request_builder import gen_request

from t2i_studio.cli import main
from t2i_studio.core.engine import Result
from t2i_studio.core.export_formats import FORMATS
from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.project import Project


def _project(tmp_path):
    request = gen_request(prompt="a koi pond, ukiyo-e", model="m/tiny", seed=3)
    with Project.create(tmp_path / "p") as project:
        [entry] = project.save_result(request, Result(images=[Image.new("RGB", (64, 32))], seeds=[3]))
    return tmp_path / "p", entry


def test_export_entry_and_file(tmp_path, capsys):
    folder, entry = _project(tmp_path)
    args = ["export", str(entry.id), str(entry.path), "--project", str(folder), "--format", "jpeg",
            "--long-edge", "32", "--quality", "80", "--out", str(tmp_path / "out"), "--json"]
    assert main(args) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 2 and results[0]["output"] != results[1]["output"]
    assert all(r["metadata"] == "kept" and (r["width"], r["height"]) == (32, 16) for r in results)
    assert read_metadata(results[0]["output"]).request.prompt == "a koi pond, ukiyo-e"


def test_every_table_format_is_a_choice(tmp_path, capsys):
    _folder, entry = _project(tmp_path)
    for spec in FORMATS.values():
        assert main(["export", str(entry.path), "--format", spec.name, "--out", str(tmp_path / spec.name),
                     "--json"]) == 0
        [result] = json.loads(capsys.readouterr().out)
        assert result["output"].endswith(spec.extension) and result["format"] == spec.name
    with pytest.raises(SystemExit):
        main(["export", str(entry.path), "--format", "bmp"])
    err = capsys.readouterr().err
    assert "invalid choice: 'bmp'" in err and all(repr(name) in err for name in FORMATS)


def test_export_strip_says_so(tmp_path, capsys):
    folder, entry = _project(tmp_path)
    assert main(["export", str(entry.path), "--format", "webp", "--strip-metadata", "--out",
                 str(tmp_path / "o"), "--name-template", "{seed}-{prompt:8}"]) == 0
    out = capsys.readouterr()
    assert "Metadata stripped" in out.err and out.out.strip().endswith("3-a-koi-po.webp  (64x32)")
    assert read_metadata(next((tmp_path / "o").iterdir())).source == "none"


def test_export_errors(tmp_path, capsys):
    folder, _entry = _project(tmp_path)
    assert main(["export", "77", "--project", str(folder)]) == 2
    assert "No entry 77" in capsys.readouterr().err
    assert main(["export", "x.png", "--format", "tiff", "--quality", "0"]) == 2
    assert "Quality must be" in capsys.readouterr().err
    assert main(["export", str(tmp_path), "--name-template", "{bad}"]) == 2
    assert "Unknown name template field {bad}" in capsys.readouterr().err
