"""``generate`` with dynamic prompts and style presets on the tiny SD pipeline: each saved image is
listed with its own prompt; ``styles list|import``; unknown wildcards and styles are one-line errors."""

from __future__ import annotations

import json
import re

import pytest

from t2i_studio.cli import main
from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.settings import wildcards_dir

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """A private app home (settings, styles, wildcards) with an animal.txt wildcard file."""
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))
    wildcards_dir().mkdir(parents=True)
    (wildcards_dir() / "animal.txt").write_text("cat\ndog\n", encoding="utf-8")


def _generate(model, project, prompt, *extra):
    return main(["generate", prompt, "--model", str(model), "--width", "64", "--height", "64", "--steps", "1",
                 "--seed", "5", "--dtype", "fp32", "--project", str(project), *extra])


def test_each_saved_image_is_printed_with_the_prompt_it_drew(tiny_sd_path, tmp_path, capsys):
    code = _generate(tiny_sd_path, tmp_path / "p", "a {red|green|blue} __animal__", "--batch-size", "3")
    out = capsys.readouterr()
    assert code == 0, out.err
    lines = [line.split("\t") for line in out.out.splitlines()]
    assert len(lines) == 3
    for k, (path, prompt) in enumerate(lines):
        meta = read_metadata(path)
        assert re.fullmatch(r"a (red|green|blue) (cat|dog)", prompt) and meta.seed == 5 + k
        assert (meta.request.prompt, meta.request.template) == (prompt, "a {red|green|blue} __animal__")


def test_json_lists_every_combination_with_its_prompt(tiny_sd_path, tmp_path, capsys):
    code = _generate(tiny_sd_path, tmp_path / "p", "a {red|blue} __animal__", "--wildcards", "combinatorial",
                     "--json")
    out = capsys.readouterr()
    assert code == 0, out.err
    data = json.loads(out.out)
    assert data["template"] == "a {red|blue} __animal__" and len(data["images"]) == 4
    assert [s["path"] for s in data["saved"]] == data["images"]
    assert [(s["seed"], s["prompt"]) for s in data["saved"]] == [
        (5, "a red cat"), (6, "a red dog"), (7, "a blue cat"), (8, "a blue dog")]


def test_styles_apply_in_order_and_the_styled_prompt_is_stored(tiny_sd_path, tmp_path, capsys):
    code = _generate(tiny_sd_path, tmp_path / "p", "a cat", "--style", "cinematic", "--style", "Line art",
                     "--negative", "text")
    out = capsys.readouterr()
    assert code == 0, out.err
    request = read_metadata(out.out.strip()).request
    assert request.prompt.startswith("line art drawing of cinematic film still of a cat, shallow depth of field")
    assert request.negative_prompt.startswith("text, cartoon, drawing") and request.template == ""


@pytest.mark.parametrize("prompt, extra, message", [
    ("a __animl__", [], "error: No wildcard file for __animl__ in "),
    ("a {red|green", [], "error: The prompt has a {…|…} choice or __wildcard__ that is not closed"),
    ("a cat", ["--style", "Noir"], "error: No style called 'Noir': use one of Photographic"),
])
def test_what_cannot_be_drawn_is_one_line_before_anything_runs(tiny_sd_path, tmp_path, capsys, prompt, extra,
                                                                message):
    code = _generate(tiny_sd_path, tmp_path / "p", prompt, *extra)
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith(message) and "\n" not in err, err
    assert not (tmp_path / "p").exists()


def test_styles_list_and_import(tmp_path, capsys):
    styles = tmp_path / "styles.csv"
    styles.write_text('name,prompt,negative_prompt\n"Noir, moody","{prompt}, film noir",colour\nSoft,"soft light"\n',
                      encoding="utf-8")
    assert main(["styles", "import", str(styles)]) == 0
    assert "Imported 2 style(s) into " in capsys.readouterr().out
    assert main(["styles", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Photographic\tshipped\tphotograph of {prompt}")
    assert lines[-2:] == ["Noir, moody\tyours\t{prompt}, film noir\t(negative: colour)", "Soft\tyours\tsoft light"]
    assert main(["styles", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[-1] == {"name": "Soft", "prompt": "soft light", "negative_prompt": "", "shipped": False}
    assert main(["styles", "import", str(tmp_path / "missing.csv")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_folders_given_for_one_run_and_a_lora_by_name(tmp_path):
    from t2i_studio.cli import build_parser
    from t2i_studio.cli.generate import build_request

    words, loras = tmp_path / "words", tmp_path / "loras"
    words.mkdir()
    (words / "fruit.txt").write_text("pear\n", encoding="utf-8")
    loras.mkdir()
    (loras / "Ink.safetensors").write_bytes(b"")  # found by name; the check reads it later
    args = build_parser().parse_args(["generate", "a __fruit__", "--model", "m", "--wildcards-dir", str(words),
                                      "--loras-dir", str(loras), "--lora", "ink:0.6"])
    request = build_request(args)
    assert [(a.source, a.weight) for a in request.model.adapters] == [(str(loras / "Ink.safetensors"), 0.6)]
    assert wildcards_dir() == words
    build_request(build_parser().parse_args(["generate", "x", "--model", "m"]))
    assert wildcards_dir() != words  # the next run without the flag is back to the preferences' folder
