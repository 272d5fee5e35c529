"""Bad input on the command line: one line saying what was wrong and what to do, exit 2, nothing
run and nothing lost."""

from __future__ import annotations

import struct
import zlib

import pytest
from PIL import Image

from t2i_studio.cli import main

MODEL = "nobody/not-cached"  # a hub id that is not in the test session's empty cache


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    return err


def _bomb(path, width=12_000, height=12_000):
    """A PNG whose header claims 144 megapixels (a decompression bomb): only the header is real."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return str(path)


@pytest.mark.parametrize("argv, says", [
    (["generate"], "the following arguments are required: prompt"),
    (["generate", "x", "--steps", "many"], "argument --steps: invalid int value: 'many'"),
    (["nonsense"], "invalid choice: 'nonsense'"),
    (["stylize", "a.png"], "the following arguments are required: STYLE"),
])
def test_argument_errors_are_one_line_and_exit_2(capsys, argv, says):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = _one_line_error(capsys)
    assert says in err and "--help" in err and "usage:" not in err


@pytest.mark.parametrize("extra, says", [
    (["--guidance", "-inf"], "Guidance (CFG) must be from 0 to 50, got -inf"),
    (["--guidance", "nan"], "Guidance (CFG) must be from 0 to 50, got nan"),
    (["--steps", "-1e3"], "invalid int value: '-1e3'"),
    (["--model", ""], "No model chosen"),  # not "the last model used"
])
def test_values_are_checked_with_a_clear_message(tmp_path, capsys, monkeypatch, extra, says):
    from request_builder import gen_request

    from t2i_studio.core.settings import Settings

    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))
    settings = Settings.load()
    settings.last_generation = gen_request(model="last/used").to_dict()
    settings.save()
    argv = ["generate", "a fox", "--project", str(tmp_path / "p"), *(["--model", MODEL] if "--model" not in extra
                                                                  else []), *extra]
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2 and says in _one_line_error(capsys)
    assert not (tmp_path / "p").exists()


def test_prompt_bytes_that_are_not_utf8(tmp_path, capsys):
    prompt = b"a fox \xff\xfe".decode("utf-8", "surrogateescape")  # what argv holds for such bytes
    assert main(["generate", prompt, "--model", MODEL, "--project", str(tmp_path / "p")]) == 2
    assert "not valid UTF-8" in _one_line_error(capsys)


def test_project_naming_a_file_fails_before_any_work(tmp_path, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("keep me")
    assert main(["generate", "a fox", "--model", MODEL, "--project", str(target)]) == 2
    assert "is a file, not a project folder" in _one_line_error(capsys)
    assert target.read_text() == "keep me"


def test_decompression_bombs_as_init_content_or_style(tmp_path, capsys):
    bomb = _bomb(tmp_path / "bomb.png")
    fine = tmp_path / "fine.png"
    Image.new("RGB", (32, 32), "red").save(fine)
    assert main(["generate", "x", "--model", MODEL, "--init-image", bomb, "--project", str(tmp_path / "p")]) == 2
    assert "too large to open safely (12000x12000 pixels)" in _one_line_error(capsys)
    for content, style in ((bomb, str(fine)), (str(fine), bomb)):
        assert main(["stylize", content, style, "--vgg-weights", "random", "--project", str(tmp_path / "p")]) == 2
        assert "too large to open safely" in _one_line_error(capsys)
    assert not (tmp_path / "p").exists()


def test_style_weight_inf_is_refused(tmp_path, capsys):
    image = tmp_path / "a.png"
    Image.new("RGB", (32, 32), "red").save(image)
    code = main(["stylize", str(image), str(image), str(image), "--style-weights", "1", "inf",
                 "--vgg-weights", "random", "--project", str(tmp_path / "p")])
    assert code == 2 and "Style weights must be finite" in _one_line_error(capsys)


@pytest.mark.parametrize("kind", ["folder", "empty", "random"])
def test_info_on_what_is_not_an_image(tmp_path, capsys, kind):
    path = tmp_path / "thing.png"
    if kind == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"" if kind == "empty" else bytes(range(256)) * 4)
    assert main(["info", str(path)]) == 2
    err = _one_line_error(capsys)
    assert ("is a folder, not an image file" if kind == "folder" else "not an image file") in err


def test_stylize_out_is_checked_before_the_run_and_never_overwritten(tmp_path, capsys):
    content, style = tmp_path / "c.png", tmp_path / "s.png"
    Image.new("RGB", (32, 32), "red").save(content)
    Image.new("RGB", (32, 32), "blue").save(style)
    existing = tmp_path / "keep.jpg"
    existing.write_bytes(b"my own file")
    base = ["stylize", str(content), str(style), "--size", "32", "--iterations", "2", "--vgg-weights", "random",
            "--project", str(tmp_path / "p")]
    assert main([*base, "--out", str(existing)]) == 2
    assert "already exists" in _one_line_error(capsys) and existing.read_bytes() == b"my own file"
    assert main([*base, "--out", str(tmp_path / "result.xyz")]) == 2
    assert "no image extension" in _one_line_error(capsys)
    assert not (tmp_path / "p").exists()  # nothing ran
    assert main([*base, "--out", str(existing), "--overwrite"]) == 0
    with Image.open(existing) as im:
        assert im.format == "JPEG" and im.size == (32, 32)
