"""``t2i-studio models``: add a folder / file, list them with family and size; refusals exit 2."""

from __future__ import annotations

import json

from t2i_studio.cli import main


def test_add_and_list(tiny_sd_path, tmp_path, capsys, app_home):
    from t2i_checkpoints import write_sd_checkpoint

    assert main(["models", "add", str(tiny_sd_path), "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["family"] == "sd" and added["source"] == "folder" and added["size_bytes"] > 0
    ckpt = write_sd_checkpoint(tiny_sd_path, tmp_path / "tiny.safetensors")
    assert main(["models", "add", str(ckpt)]) == 0
    assert "tiny.safetensors" in capsys.readouterr().out
    assert main(["models", "list", "--json"]) == 0
    listed = {m["id"]: m for m in json.loads(capsys.readouterr().out)}
    assert listed[str(tiny_sd_path)]["family"] == "sd"
    assert listed[str(ckpt)]["source"] == "file" and listed[str(ckpt)]["family"] == "sd"
    assert main(["models", "list"]) == 0
    assert str(ckpt) in capsys.readouterr().out


def test_add_refuses_pickle_and_missing(tmp_path, capsys):
    from t2i_checkpoints import write_pickle_checkpoint

    path = write_pickle_checkpoint(tmp_path / "evil.ckpt")
    assert main(["models", "add", str(path)]) == 2
    err = capsys.readouterr().err
    assert "pickle" in err and "--allow-unsafe-checkpoint" in err and "Traceback" not in err
    assert main(["models", "add", str(tmp_path / "missing")]) == 2
    assert "Model not found" in capsys.readouterr().err


def test_download_offline_is_a_clear_error(capsys):
    assert main(["models", "download", "someone/some-model"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: You are offline: models cannot be downloaded now.") and "\n" not in err
    assert "OfflineModeIsEnabled" not in err and "hf auth" not in err  # plain words, no terminal commands
