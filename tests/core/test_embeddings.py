"""Embeddings by name: the folder's files (subfolders too, any letter case), the ones two prompts use
as whole words, recorded as request adapters; "TI hashes" and "Clip skip" in the A1111 text."""

from __future__ import annotations

from t2i_studio.core.a1111 import build_parameters, parameters_to_request, parse_parameters
from t2i_studio.core.embeddings import available, embeddings_in, names_in, with_embeddings
from t2i_studio.core.requests import Adapter, GenerationRequest, ModelRef, Sampling


def _folder(tmp_path):
    folder = tmp_path / "embeddings"
    (folder / "neg").mkdir(parents=True)
    for name in ("EasyNegative.safetensors", "neg/bad-hands-5.pt", "neg/notes.txt", "style.bin"):
        (folder / name).write_bytes(b"x")
    (folder / "neg" / "style.safetensors").write_bytes(b"x")  # the same name deeper down: not this one
    return folder


def test_the_folder_lists_embeddings_by_lower_case_name(tmp_path):
    folder = _folder(tmp_path)
    found = available(folder)
    assert found == {"easynegative": folder / "EasyNegative.safetensors",
                     "bad-hands-5": folder / "neg" / "bad-hands-5.pt", "style": folder / "style.bin"}
    assert available(tmp_path / "nowhere") == {} and available(None) == {}


def test_names_are_whole_words_in_any_case_in_order_of_use(tmp_path):
    names = available(_folder(tmp_path))
    assert names_in("(easynegative:1.2), Style, bad-hands-5", names) == ["easynegative", "style", "bad-hands-5"]
    assert names_in("stylesheet, bad-hands-50, xeasynegative, <lora:style:1>", names) == []


def test_embeddings_in_two_prompts_become_request_adapters(tmp_path):
    folder = _folder(tmp_path)
    adapters = embeddings_in("a cat, style", "EasyNegative, style", folder)
    assert adapters == (Adapter(str(folder / "style.bin"), kind="embedding"),
                        Adapter(str(folder / "EasyNegative.safetensors"), kind="embedding"))
    lora = Adapter("ink.safetensors", weight=0.5)
    old = Adapter("/elsewhere/old.safetensors", kind="embedding")
    request = GenerationRequest("a cat, style", model=ModelRef("m", adapters=(lora, old)))
    assert with_embeddings(request, folder).model.adapters == (lora, adapters[0])


def test_clip_skip_and_ti_hashes_are_written_and_read_as_a1111_does():
    request = GenerationRequest("a cat, style", model=ModelRef("m"), sampling=Sampling(clip_skip=2, seed=3))
    fingerprint = {"model": {"name": "m"},
                   "embeddings": [{"name": "style", "hash": "0123456789ab"}, {"name": "a:b,c", "hash": "ba98"}]}
    text = build_parameters(request, 3, fingerprint)
    params = parse_parameters(text)["params"]
    assert params["Clip skip"] == "2" and params["TI hashes"] == "style: 0123456789ab, abc: ba98"
    assert parameters_to_request(text)[0].sampling.clip_skip == 2
    assert "Clip skip" not in build_parameters(request.replace(sampling=Sampling()), 3, {})
    assert parameters_to_request("a cat\nSteps: 20, Clip skip: 40, Seed: 1")[0].sampling.clip_skip == 12
