"""Dynamic prompts: each image of a batch draws its own prompt with its seed, stores it with the
template it came from and reproduces alone; every combination on request (capped); a wildcard with no
file, or a choice left open, is a clear message at submission."""

from __future__ import annotations

import re

import pytest
from fake_engine import FakeEngine, registry_of
from request_builder import gen_request, with_

from t2i_studio.core import jobs, wildcards
from t2i_studio.core.image_details import details
from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.project import Project
from t2i_studio.core.settings import Settings, wildcards_dir

TEMPLATE = "a {red|green|blue} __animal__"
DRAWN = re.compile(r"a (red|green|blue) (cat|dog|fox)")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A private app home whose wildcards folder has animal.txt and colors/warm.txt."""
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))
    folder = wildcards_dir()
    (folder / "colors").mkdir(parents=True)
    (folder / "animal.txt").write_text("cat\ndog\n# a comment, not a choice\nfox\n", encoding="utf-8")
    (folder / "colors" / "warm.txt").write_text("amber\ncrimson\n", encoding="utf-8")
    return folder


def _request(prompt: str = TEMPLATE, **fields):
    return wildcards.with_template(gen_request(prompt, model="m", steps=1, **fields))


def _run(request, project=None):
    engine = FakeEngine(step_s=0.0)
    save = project.save_result if project is not None else lambda run, result: []
    outcome = jobs.run_job(request, registry_of({"generate": lambda: engine}), save)
    return outcome, engine


def test_each_image_of_a_batch_stores_the_prompt_it_drew_and_reproduces_alone(folder, tmp_path):
    request = _request(seed=40, batch_size=3)
    assert request.template == request.prompt == TEMPLATE  # as submitted
    with Project.open(tmp_path / "project", create=True) as project:
        outcome, engine = _run(request, project)
    assert outcome.state == jobs.FINISHED and len(outcome.entries) == 3
    # a run per image when the drawn prompts differ; each run says what it was drawn from
    assert sum(run.sampling.batch_size for run in engine.runs) == 3
    assert all(run.template == TEMPLATE and DRAWN.fullmatch(run.prompt) for run in engine.runs)
    prompts = [e.prompt for e in outcome.entries]
    assert len(set(prompts)) > 1 and all(DRAWN.fullmatch(p) for p in prompts)
    for k, entry in enumerate(outcome.entries):
        stored = read_metadata(entry.path).request
        assert (stored.prompt, stored.template, entry.seed) == (prompts[k], TEMPLATE, 40 + k)
        assert not wildcards.has_syntax(stored.prompt)
        again = with_(stored, batch_size=1, seed=entry.seed)
        assert jobs.batches(again) == [again]  # nothing left to draw: it runs as stored
        _outcome, rerun = _run(again)
        assert (rerun.runs[0].prompt, rerun.runs[0].sampling.seeds()) == (prompts[k], [40 + k])
        assert ("Template", TEMPLATE) in details(read_metadata(entry.path).data)


def test_image_k_draws_with_its_own_seed_so_the_template_reproduces_it_too(folder):
    batch = [r.prompt for r in jobs.batches(_request(seed=7, batch_size=4, batch_count=2))
             for _ in range(r.sampling.batch_size)]
    alone = [jobs.batches(_request(seed=7 + k))[0].prompt for k in range(8)]
    assert batch == alone
    assert jobs.batches(_request(seed=7, batch_size=4, batch_count=2)) == jobs.batches(
        _request(seed=7, batch_size=4, batch_count=2))


def test_images_that_draw_the_same_prompt_share_a_run(folder):
    runs = jobs.batches(_request("a {cat|cat} in __colors/warm__ light", seed=3, batch_size=4))
    assert sum(r.sampling.batch_size for r in runs) == 4
    assert [r.sampling.seed for r in runs] == sorted(r.sampling.seed for r in runs)
    assert all(re.fullmatch(r"a cat in (amber|crimson) light", r.prompt) for r in runs)
    one = jobs.batches(_request("a {cat|cat}", seed=3, batch_size=4))
    assert [(r.prompt, r.sampling.seed, r.sampling.batch_size) for r in one] == [("a cat", 3, 4)]


def test_combinatorial_makes_every_combination_once_per_image_of_the_batch(folder):
    request = _request("a {red|green} __animal__", seed=7, template_mode="combinatorial")
    assert wildcards.image_count(request) == 6
    runs = jobs.batches(request)
    assert sorted(r.prompt for r in runs) == sorted(f"a {c} {a}" for c in ("red", "green") for a in ("cat", "dog", "fox"))
    assert [r.sampling.seed for r in runs] == list(range(7, 13))
    twice = jobs.batches(with_(request, batch_count=2))
    assert [r.prompt for r in twice] == [r.prompt for r in runs] * 2
    assert [r.sampling.seed for r in twice] == list(range(7, 19))


def test_too_many_combinations_are_refused_with_what_to_do(folder):
    (folder / "many.txt").write_text("\n".join(f"thing {n}" for n in range(40)), encoding="utf-8")
    request = _request("{a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v|w|x|y|z} __many__",
                       template_mode="combinatorial")
    with pytest.raises(ValueError, match="more than 1,000 prompts; at most 1,000 images .* draw at random"):
        wildcards.check(request)
    wildcards.check(with_(request, template_mode="random"))  # one draw per image: fine


def test_an_unknown_wildcard_says_which_file_to_add(folder):
    with pytest.raises(ValueError, match=r"No wildcard file for __animl__ in .*: add animl.txt there \(one choice "
                                         r"a line\), or fix the name \(it has __animal__, __colors/warm__\)"):
        wildcards.check(_request("a __animl__"))
    (folder / "pets.txt").write_text("a __size__ dog\n", encoding="utf-8")  # named inside a file
    with pytest.raises(ValueError, match="No wildcard file for __size__"):
        wildcards.check(_request("{x|y} __pets__"))
    with pytest.raises(ValueError, match="No wildcard file for __nope__"):  # the negative prompt too
        wildcards.check(_request("a cat", negative_prompt="__nope__"))
    outcome, engine = _run(_request("a __animl__"))  # a job that was not checked fails before any run
    assert outcome.state == jobs.FAILED and "No wildcard file for __animl__" in outcome.message.text
    assert engine.runs == []


def test_a_choice_left_open_is_a_clear_message(folder):
    with pytest.raises(ValueError, match=r"The prompt has a \{…\|…\} choice or __wildcard__ that is not closed, "
                                         r"at character 3 \('\{red\|green'\)"):
        wildcards.check(_request("a {red|green"))
    with pytest.raises(ValueError, match="The negative prompt has .* not closed"):
        jobs.batches(_request("a cat", negative_prompt="__blurry"))


def test_the_negative_prompt_draws_too_and_plain_prompts_are_untouched(folder):
    runs = jobs.batches(_request("a cat", negative_prompt="{blurry|grainy}, __colors/warm__", seed=1,
                                 batch_size=4))
    assert all(r.prompt == "a cat" and r.template == "" for r in runs)
    assert all(re.fullmatch(r"(blurry|grainy), (amber|crimson)", r.negative_prompt) for r in runs)
    for plain in ("a cat (detailed:1.2) [day|night]", "a }b", "snake_case"):
        request = _request(plain, batch_count=2)
        assert not wildcards.has_syntax(plain) and request.template == ""
        assert [r.prompt for r in jobs.batches(request)] == [plain, plain]


def test_the_wildcards_folder_is_the_one_chosen_in_the_preferences(folder, tmp_path):
    chosen = tmp_path / "mine"
    (chosen / "sky").mkdir(parents=True)
    (chosen / "sky" / "weather.txt").write_text("stormy\n", encoding="utf-8")
    Settings(wildcard_folder=str(chosen)).save()
    assert wildcards_dir() == chosen
    assert jobs.batches(_request("a __sky/weather__ sky"))[0].prompt == "a stormy sky"
    assert wildcards.variations("{a|b} __sky/weather__") == 2
