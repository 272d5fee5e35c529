"""A1111 prompts on the tiny SD and SDXL pipelines: attention weights change the picture and weight 1
is the plain prompt bit for bit, long prompts are never truncated, BREAK starts a chunk, clip skip
changes the picture and is written as A1111 writes it, and textual-inversion embeddings (A1111's
layout, built here) are used by name, recorded in the request and in "TI hashes", and unloaded."""

from __future__ import annotations

import numpy as np
import pytest
from request_builder import gen_request, with_

from t2i_studio.core.a1111 import parameters_to_request, parse_parameters
from t2i_studio.core.embeddings import embeddings_in
from t2i_studio.core.engine import CancelToken, EngineError
from t2i_studio.core.metadata import image_data, parameters_for
from t2i_studio.core.requests import Adapter, ModelRef
from t2i_studio.engines.prompt_encoding import PromptEncoder
from t2i_studio.engines.registry import local_registry
from t2i_studio.engines.text2image import Text2ImageEngine

pytestmark = pytest.mark.usefixtures("one_torch_thread")
WIDTHS = {"sd": [32], "sdxl": [32, 48]}  # the tiny text encoders' widths


@pytest.fixture(params=["sd", "sdxl"])
def setup(request, engines, tiny_sd_path, tiny_sdxl_path):
    family = request.param
    path = tiny_sd_path if family == "sd" else tiny_sdxl_path
    engine = engines.setdefault(family, Text2ImageEngine())
    req = gen_request("a cat", model=str(path), width=64, height=64, steps=2, seed=5, scheduler="Euler",
                      dtype="fp32", negative_prompt="the moon")
    return family, engine, req


def px(engine, req) -> np.ndarray:
    return np.asarray(engine.run(req, lambda p: None, CancelToken()).images[0]).astype(np.int16)


def write_embedding(folder, name: str, family: str, vectors: int = 2, seed: int = 0):
    """A1111's layout: ``emb_params`` (SD) or ``clip_l``/``clip_g`` (SDXL), random vectors."""
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = [torch.randn(vectors, width) for width in WIDTHS[family]]
    state = {"emb_params": tensors[0]} if family == "sd" else dict(zip(("clip_l", "clip_g"), tensors))
    save_file(state, str(folder / f"{name}.safetensors"))
    return folder / f"{name}.safetensors"


def test_weights_change_the_picture_and_weight_one_is_the_plain_prompt(setup):
    _family, engine, req = setup
    plain = px(engine, req)
    assert np.array_equal(px(engine, with_(req, prompt="a (cat:1.0)", negative_prompt="(the moon:1.0)")), plain)
    weighted = px(engine, with_(req, prompt="a (cat:1.5)"))
    assert not np.array_equal(weighted, plain)
    assert not np.array_equal(px(engine, with_(req, prompt="a ((cat))")), plain)
    assert not np.array_equal(px(engine, with_(req, prompt="a [cat]")), plain)
    # the negative weighs too; no negative on SDXL is the zeros its own text path gives
    assert not np.array_equal(px(engine, with_(req, negative_prompt="(the moon:1.6)")), plain)
    bare = with_(req, negative_prompt="")
    assert np.array_equal(px(engine, with_(bare, prompt="a (cat:1.0)")), px(engine, bare))


def test_a_long_prompt_is_encoded_whole_in_chunks(setup):
    _family, engine, req = setup
    head = " ".join(["cat"] * 190)  # one token each with the tiny vocabulary
    long_a, long_b = with_(req, prompt=f"{head} and the moon"), with_(req, prompt=f"{head} and the sea")
    embeds = PromptEncoder().arguments(engine.pipe, long_a, 1)
    assert embeds["prompt_embeds"].shape[1] == 3 * 77  # 200 tokens: three chunks, none cut off
    assert embeds["negative_prompt_embeds"].shape == embeds["prompt_embeds"].shape  # padded to match
    assert not np.array_equal(px(engine, long_a), px(engine, long_b))  # the words after token 77 count


def test_break_starts_a_new_chunk(setup):
    _family, engine, req = setup
    broken = with_(req, prompt="a cat BREAK the moon")
    embeds = PromptEncoder().arguments(engine.pipe, broken, 1)
    assert embeds["prompt_embeds"].shape[1] == 2 * 77
    assert not np.array_equal(px(engine, broken), px(engine, with_(req, prompt="a cat the moon")))


def test_clip_skip_changes_the_picture_and_is_written_as_a1111_does(setup):
    _family, engine, req = setup
    plain = px(engine, req)
    skipped = with_(req, clip_skip=2)
    result = engine.run(skipped, lambda p: None, CancelToken())
    assert not np.array_equal(np.asarray(result.images[0]).astype(np.int16), plain)
    text = parameters_for(image_data(skipped, 5, fingerprint=result.fingerprint))
    assert parse_parameters(text)["params"]["Clip skip"] == "2"
    assert parameters_to_request(text)[0].sampling.clip_skip == 2
    assert "Clip skip" not in parameters_for(image_data(req, 5, fingerprint=result.fingerprint))
    with pytest.raises(EngineError, match="Clip skip 12 is more than"):
        engine.run(with_(req, clip_skip=12), lambda p: None, CancelToken())


def test_an_embedding_is_used_by_name_recorded_and_unloaded(setup, tmp_path):
    family, engine, req = setup
    folder = tmp_path / "embeddings"
    path = write_embedding(folder / "styles", "Inkblot", family)
    prompt = "a cat, (inkblot:1.2)"
    adapters = embeddings_in(prompt, req.negative_prompt, folder)
    assert adapters == (Adapter(str(path), kind="embedding"),)
    as_words = with_(req, prompt=prompt)
    with_embedding = as_words.replace(model=as_words.model.replace(adapters=adapters))
    base, words = px(engine, req), px(engine, as_words)
    tokens = len(engine.pipe.tokenizer)
    result = engine.run(with_embedding, lambda p: None, CancelToken())
    assert not np.array_equal(np.asarray(result.images[0]).astype(np.int16), words)
    [entry] = result.fingerprint["embeddings"]
    assert entry["name"] == "Inkblot" and len(entry["hash"]) == 12
    text = parameters_for(image_data(with_embedding, 5, fingerprint=result.fingerprint))
    assert parse_parameters(text)["params"]["TI hashes"] == f"Inkblot: {entry['hash']}"
    # a request without it unloads it: the tokenizer and the pictures are as before
    assert np.array_equal(px(engine, req), base) and len(engine.pipe.tokenizer) == tokens
    assert np.array_equal(px(engine, as_words), words)


def test_bad_embeddings_are_refused_before_anything_loads(tiny_sd_path, tmp_path):
    request = gen_request("a cat, thing", model=str(tiny_sd_path), width=64, height=64, steps=1)
    sdxl = write_embedding(tmp_path, "xl-thing", "sdxl")
    pickle = tmp_path / "old.pt"
    pickle.write_bytes(b"\x80\x04K\x01.")
    cases = [(tmp_path / "gone.safetensors", "Embedding not found"),
             (sdxl, "xl-thing is an embedding for SDXL models, and the chosen model is SD 1.x/2.x"),
             (pickle, "pickle")]
    for path, message in cases:
        adapter = Adapter(str(path), kind="embedding")
        with pytest.raises(ValueError, match=message):
            local_registry().check(request.replace(model=ModelRef(str(tiny_sd_path), adapters=(adapter,))))


def test_the_cli_takes_clip_skip_and_finds_the_prompts_embeddings(tmp_path, monkeypatch):
    from t2i_studio.cli import build_parser
    from t2i_studio.cli.generate import build_request
    from t2i_studio.core import settings

    path = write_embedding(tmp_path, "bad-hands", "sd")
    monkeypatch.setattr(settings, "embeddings_dir", lambda: tmp_path)
    args = build_parser().parse_args(["generate", "a cat", "--model", "m", "--clip-skip", "2",
                                      "--negative", "blurry, bad-hands"])
    request = build_request(args)
    assert request.sampling.clip_skip == 2
    assert request.model.adapters == (Adapter(str(path), kind="embedding"),)
