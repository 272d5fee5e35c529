"""Pages that start after a known row (what the gallery uses deep in a big project) hold exactly the
entries that OFFSET paging gives, in every sort, ties included."""

from __future__ import annotations

import pytest

from project_testkit import gen_request, gen_result


@pytest.mark.parametrize("sort", ["newest", "oldest", "rating", "model"])
def test_keyset_pages_match_offset_pages(project, sort):
    for k in range(12):  # saved within a second or two: many ties on `created`, broken by id
        request = gen_request(f"picture {k}", model=("m-b", "m-a", "m-c")[k % 3], seed=k)
        project.save_result(request, gen_result(request, n=2))
    everything = project.query(sort=sort, params=False, limit=1000)
    for entry in everything[::3]:
        project.set_rating(entry.id, 4)  # ties on rating too
    everything = project.query(sort=sort, params=False, limit=1000)
    assert len(everything) == 24
    size, keyset, anchor = 5, [], None
    while True:
        page = project.query(sort=sort, params=False, limit=size, after=anchor)
        keyset += page
        if len(page) < size:
            break
        last = page[-1]
        anchor = {"id": last.id, "created": last.created, "rating": last.rating, "model": last.model}
    assert [e.id for e in keyset] == [e.id for e in everything]
    # and an offset counted from an anchor lands where the plain offset does
    first = everything[4]
    anchor = {"id": first.id, "created": first.created, "rating": first.rating, "model": first.model}
    assert [e.id for e in project.query(sort=sort, params=False, limit=3, offset=6, after=anchor)] == \
        [e.id for e in everything[11:14]]
