"""Style presets: ``{prompt}`` placeholders or A1111's ", " append, the shipped set and the user's own,
and A1111 ``styles.csv`` files (quoted commas, no negative column, the old ``text`` column) imported."""

from __future__ import annotations

import logging

import pytest
from request_builder import gen_request

from t2i_studio.core import presets
from t2i_studio.core.presets import Preset


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))


def test_a_placeholder_takes_the_prompt_and_a_template_without_one_is_appended():
    assert presets.merge("cinematic still of {prompt}, film grain", "a cat") == "cinematic still of a cat, film grain"
    assert presets.merge("moody, dark", "a cat ") == "a cat, moody, dark"  # as A1111 joins them
    assert presets.merge("moody", "") == "moody"
    assert presets.merge("", "a cat ") == "a cat "  # nothing to apply: the text as typed
    request = gen_request("a cat", negative_prompt="blurry")
    styled = presets.apply(request, [Preset("A", "{prompt} at dusk", "cartoon"), Preset("B", "oil painting")])
    assert (styled.prompt, styled.negative_prompt) == ("a cat at dusk, oil painting", "blurry, cartoon")
    assert styled.replace(prompt="a cat", negative_prompt="blurry") == request  # only the prompts change


def test_the_shipped_presets():
    shipped = presets.shipped()
    assert [p.name for p in shipped] == ["Photographic", "Cinematic", "Anime", "Digital art", "Oil painting",
                                         "Watercolor", "Line art", "3D render"]
    assert all(p.shipped and presets.PLACEHOLDER in p.prompt and p.negative_prompt for p in shipped)


def test_an_a1111_styles_csv_reads_with_quoted_commas_and_without_a_negative_column(tmp_path):
    full = tmp_path / "styles.csv"
    full.write_text('\ufeffname,prompt,negative_prompt\n'
                    '"Moody, dark","{prompt}, moody, dark lighting","blurry, bright"\n'
                    '# a comment row,ignored,\n'
                    ',no name,\n'
                    'Plain,"sharp focus",\n', encoding="utf-8")
    assert presets.read_csv(full) == [Preset("Moody, dark", "{prompt}, moody, dark lighting", "blurry, bright"),
                                      Preset("Plain", "sharp focus", "")]
    short = tmp_path / "short.csv"
    short.write_text('name, prompt\nFilm, "{prompt}, 35mm film"\n', encoding="utf-8")  # spaces after commas
    assert presets.read_csv(short) == [Preset("Film", "{prompt}, 35mm film")]
    old = tmp_path / "old.csv"
    old.write_text("name,text\nOld,vintage\n", encoding="utf-8")  # A1111's first layout
    assert presets.read_csv(old) == [Preset("Old", "vintage")]


@pytest.mark.parametrize("content, message", [
    (b"title,body\nx,y\n", "not a styles.csv: its first line must name the columns name,prompt,negative_prompt "
                           r"\(it has title,body\)"),
    (b"", r"\(it has none\)"),
    (b"name,prompt\n\xff\xfe bad\n", "not UTF-8 text"),
])
def test_a_file_that_is_not_a_styles_csv_says_so(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        presets.read_csv(path)


def test_imports_join_the_users_presets_and_stand_in_for_shipped_names(tmp_path):
    presets.save_user([Preset("Mine", "{prompt}, mine"), Preset("Kept", "kept")])
    first = tmp_path / "a1111.csv"
    first.write_text('name,prompt,negative_prompt\nMine,"{prompt}, replaced",ugly\nCinematic,"{prompt}, my cut",\n',
                     encoding="utf-8")
    assert [p.name for p in presets.import_csv(first)] == ["Mine", "Cinematic"]
    assert presets.user_presets() == [Preset("Mine", "{prompt}, replaced", "ugly"), Preset("Kept", "kept"),
                                      Preset("Cinematic", "{prompt}, my cut")]
    names = [p.name for p in presets.all_presets()]
    assert names[:3] == ["Photographic", "Cinematic", "Anime"] and names[-2:] == ["Mine", "Kept"]
    assert presets.find(["cinematic"])[0] == Preset("Cinematic", "{prompt}, my cut")  # case does not matter
    empty = tmp_path / "empty.csv"
    empty.write_text("name,prompt\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has no styles in it"):
        presets.import_csv(empty)


def test_an_unknown_name_lists_the_presets_there_are():
    with pytest.raises(ValueError, match="No style called 'Noir': use one of Photographic, Cinematic, .*3D render, "
                                         "or import yours"):
        presets.find(["Photographic", "Noir"])


def test_a_damaged_file_of_the_users_leaves_the_shipped_presets_offered(tmp_path, caplog):
    damaged = b"name,prompt\n\xff\n"
    presets.user_path().parent.mkdir(parents=True)
    presets.user_path().write_bytes(damaged)
    with caplog.at_level(logging.WARNING):
        assert presets.all_presets() == presets.shipped()
    assert "left out" in caplog.text
    good = tmp_path / "good.csv"
    good.write_text("name,prompt\nNew,new\n", encoding="utf-8")
    with pytest.raises(ValueError, match="styles.csv is not UTF-8"):  # an import never writes over it
        presets.import_csv(good)
    assert presets.user_path().read_bytes() == damaged
