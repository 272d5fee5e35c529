"""A1111's ``<lora:name:weight>`` tags (found, edited, resolved to files), the LoRA and VAE folders, A1111's
LoRA hash, and an image's LoRAs and VAE found again on this computer."""

from __future__ import annotations

import hashlib
import json
import struct

import pytest

from t2i_studio.core import lora_library as library
from t2i_studio.core.a1111 import build_parameters, parse_parameters
from t2i_studio.core.lora_syntax import (
    append_tag, find_tags, remove_tag, resolve, set_weight, with_tags,
)
from t2i_studio.core.requests import Adapter, GenerationRequest, ModelRef
from t2i_studio.core.settings import Settings, loras_dir, vae_dir


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path


def _safetensors(path, payload: bytes = b"\x00" * 8, metadata: str = "x") -> None:
    header = json.dumps({"__metadata__": {"note": metadata},
                         "w": {"dtype": "U8", "shape": [len(payload)], "data_offsets": [0, len(payload)]}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(header)) + header.encode() + payload)


def test_tags_are_found_with_their_weights_and_edited_in_place():
    prompt = "a cat, <lora:ink:0.8> in snow <lyco:neon> <lora:bad:strong>"
    ink, neon, bad = find_tags(prompt)
    assert (ink.kind, ink.name, ink.weight) == ("lora", "ink", 0.8)
    assert prompt[ink.start:ink.end] == "<lora:ink:0.8>"
    assert (neon.kind, neon.weight, neon.problem) == ("lyco", 1.0, "")
    assert "its weight must be a number" in bad.problem
    assert set_weight(prompt, ink, 0.25) == "a cat, <lora:ink:0.25> in snow <lyco:neon> <lora:bad:strong>"
    assert set_weight(prompt, neon, 1.5).endswith("<lyco:neon:1.5> <lora:bad:strong>")
    assert remove_tag(prompt, ink) == "a cat, in snow <lyco:neon> <lora:bad:strong>"  # with one separator
    assert find_tags("<lora:x:1:0.5>")[0].weight == 1.0  # A1111's first number; the UNet one is not read
    assert append_tag("", "ink") == "<lora:ink:1>"
    assert append_tag("a cat", "ink", 0.6) == "a cat <lora:ink:0.6>"
    assert remove_tag("<lora:ink:1> a cat", find_tags("<lora:ink:1> a cat")[0]) == "a cat"


def test_tags_resolve_to_adapters_by_name_and_say_what_is_unknown():
    known = {"ink": "/loras/ink.safetensors", "Neon": "/loras/Neon.safetensors"}
    found = resolve("a cat <lora:ink:0.8> <lora:neon:0.5> <lora:ghost>", known)
    assert found.adapters == (Adapter("/loras/ink.safetensors", weight=0.8),
                              Adapter("/loras/Neon.safetensors", weight=0.5))  # case does not matter
    assert found.unknown == ["ghost"] and found.problems == []
    given = (Adapter("/else/ink.safetensors", weight=0.3), Adapter("/else/glow.safetensors"),
             Adapter("/else/token.pt", kind="embedding"))
    both = resolve("<lora:ink:0.9>", known, given)  # the given file, the tag's weight
    assert both.adapters == (Adapter("/else/ink.safetensors", weight=0.9), *given[1:])
    assert "named twice" in resolve("<lora:ink> <lora:INK:2>", known).problems[0]
    assert with_tags("a cat <lora:ink:0.9>", given) == "a cat <lora:ink:0.9> <lora:glow:1>"


def test_the_lora_folders_list_files_by_name_subfolders_too(home):
    (home / "mine").mkdir()
    Settings(lora_folders=[str(home / "mine"), str(home / "mine")]).save()
    _safetensors(loras_dir() / "styles" / "ink.safetensors")
    _safetensors(loras_dir() / "neon.safetensors")
    _safetensors(home / "mine" / "ink.safetensors")  # the LoRA folder's ink comes first
    _safetensors(home / "mine" / "glow.safetensors")
    (home / "mine" / "notes.txt").write_text("no")
    assert library.lora_folders() == [loras_dir(), home / "mine"]
    assert [(f.name, f.path) for f in library.list_loras()] == [
        ("glow", home / "mine" / "glow.safetensors"), ("ink", loras_dir() / "styles" / "ink.safetensors"),
        ("neon", loras_dir() / "neon.safetensors")]
    assert "No LoRA called ghost in the LoRA folders (" in library.unknown_message(["ghost"], "add it")


def test_the_lora_hash_is_a1111s_and_reads_back_from_lora_hashes(tmp_path):
    path = tmp_path / "ink.safetensors"
    _safetensors(path, b"weights!", metadata="trained on cats")
    expected = hashlib.sha256(b"weights!").hexdigest()[:12]  # the tensors only: metadata edits keep it
    assert library.lora_hash(path) == expected
    _safetensors(path, b"weights!", metadata="renamed later")
    assert library.lora_hash(path) == expected
    adapters = (Adapter(str(path), weight=0.8), Adapter(str(tmp_path / "glow.safetensors")))
    request = GenerationRequest("a cat <lora:ink:0.8>", model=ModelRef("m", adapters=adapters))
    fingerprint = {"loras": [{"name": "ink", "hash": expected}, {"name": "gl:ow,", "hash": "0" * 12}]}
    text = build_parameters(request, 1, fingerprint)
    assert parse_parameters(text)["prompt"] == "a cat <lora:ink:0.8> <lora:glow:1>"
    assert library.lora_hashes(text) == {"ink": expected, "glow": "0" * 12}


def test_an_images_loras_and_vae_are_found_again_by_name_or_hash(home):
    _safetensors(loras_dir() / "ink.safetensors", b"ink")
    _safetensors(loras_dir() / "ink-v2-renamed.safetensors", b"neon")
    vae_dir().mkdir(parents=True)
    (vae_dir() / "vae-ft-mse.safetensors").write_bytes(b"v")
    neon_hash = hashlib.sha256(b"neon").hexdigest()[:12]
    parameters = f'a\nSteps: 2, Seed: 1, Lora hashes: "ink: 000000000000, neon: {neon_hash}"'
    request = GenerationRequest(
        "a cat <lora:ink:0.8> <lora:neon:0.5> <lora:ghost:1>", model=ModelRef(
            "m", vae="/old/machine/vae-ft-mse.safetensors",
            adapters=(Adapter("/old/machine/ink.safetensors", weight=0.8),
                      Adapter("/old/machine/neon.safetensors", weight=0.5), Adapter("org/hub-lora"))))
    found = library.find_again(request, parameters)
    assert [a.source for a in found.request.model.adapters] == [
        str(loras_dir() / "ink.safetensors"),  # by name: its hash matches nothing here
        str(loras_dir() / "ink-v2-renamed.safetensors"),  # by its hash, under another name
        "org/hub-lora"]
    assert found.request.prompt == "a cat <lora:ink:0.8> <lora:ink-v2-renamed:0.5> <lora:ghost:1>"
    assert found.request.model.vae == str(vae_dir() / "vae-ft-mse.safetensors")
    assert found.missing == ["LoRA ghost"]
    assert any("ink-v2-renamed" in note for note in found.notes)
    gone = library.find_again(request.replace(model=request.model.replace(vae="/old/other.pt")), parameters)
    assert gone.request.model.vae is None and gone.missing == ["LoRA ghost", "VAE other.pt"]
    message = library.missing_message(gone.missing)
    assert message.startswith("Not on this computer: LoRA ghost, VAE other.pt. Put LoRA files in ")
    assert "The model's own VAE is used" in message


def test_info_says_which_loras_of_an_a1111_image_are_missing(home, capsys):
    from PIL import Image, PngImagePlugin

    from t2i_studio.cli import main

    _safetensors(loras_dir() / "ink.safetensors", b"ink")
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a cat <lora:ink:0.8> <lora:ghost:1>\nSteps: 20, Sampler: Euler a, Seed: 5, "
                                'VAE: vae-ft-mse.safetensors, Lora hashes: "ghost: 123456abcdef"')
    Image.new("RGB", (8, 8)).save(home / "a1111.png", pnginfo=info)
    assert main(["info", str(home / "a1111.png")]) == 0
    out = capsys.readouterr().out
    assert "note: Not on this computer: LoRA ghost, VAE vae-ft-mse.safetensors. Put LoRA files in " in out
