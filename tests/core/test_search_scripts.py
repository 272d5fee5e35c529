"""Gallery search finds words of any script anywhere in a prompt (FTS5 trigram), and an index made
before it is migrated on open (or searched without the index when opened read-only)."""

from __future__ import annotations

import sqlite3

import pytest
from project_testkit import gen_request, gen_result

from t2i_studio.core.project import Project

PROMPTS = ("a red fox in the winter snow", "東京の夜景と雨に濡れた路地、ネオンの光", "一只在雪地里奔跑的红色狐狸",
           "แมวสีส้มนอนบนโซฟา", "a café by the sea")


def _fill(project):
    return [project.save_result(r, gen_result(r, 1))[0].id for r in (gen_request(p, seed=k) for k, p in
                                                                       enumerate(PROMPTS))]


@pytest.mark.parametrize("query, index", [
    ("雨に濡れた", 1), ("ネオン", 1), ("夜景", 1),  # Japanese, inside a longer prompt
    ("奔跑的", 2), ("红色狐狸", 2), ("狐", 2),  # Chinese
    ("สีส้ม", 3),  # Thai: no spaces between words either
    ("inter", 0), ("FOX snow", 0), ("café", 4),
])
def test_words_of_any_script_are_found_inside_prompts(project, query, index):
    ids = _fill(project)
    assert [e.id for e in project.query(query)] == [ids[index]]
    assert project.count(query) == 1


def test_no_match_and_odd_queries(project):
    _fill(project)
    assert project.query("fox 夜景") == [] and project.query("whale") == []
    assert project.count('"') == 5 and project.count("%_") == 0  # no words: everything; LIKE is escaped


def _downgrade_to_version_1(path):
    conn = sqlite3.connect(path)
    conn.executescript("""
        DROP TABLE entries_fts;
        CREATE VIRTUAL TABLE entries_fts USING fts5(prompt, negative, tags, content='entries',
            content_rowid='id', tokenize='unicode61 remove_diacritics 2');
        INSERT INTO entries_fts(entries_fts) VALUES ('rebuild');
        UPDATE meta SET value = '1' WHERE key = 'version';""")
    conn.close()


def test_an_older_index_is_migrated_on_open(tmp_path):
    folder = tmp_path / "p"
    with Project.create(folder) as project:
        ids = _fill(project)
    _downgrade_to_version_1(folder / "index.sqlite")
    with Project.open(folder, read_only=True) as ro:  # cannot migrate: still finds, without the index
        assert [e.id for e in ro.query("สีส้ม")] == [ids[3]]
    with Project.open(folder) as project:
        assert [e.id for e in project.query("สีส้ม")] == [ids[3]]
        assert project.count() == 5
    conn = sqlite3.connect(folder / "index.sqlite")
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'entries_fts'").fetchone()[0]
    assert "trigram" in sql and conn.execute("SELECT value FROM meta WHERE key='version'").fetchone()[0] == "2"
    conn.close()
