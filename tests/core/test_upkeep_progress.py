"""``rebuild`` and ``check`` report progress per image file and stop, index untouched, when cancelled."""

from __future__ import annotations

import pytest
from project_testkit import gen_request, gen_result

from t2i_studio.core.engine import CancelToken, Cancelled


def _fill(project, n: int) -> list:
    request = gen_request(batch_size=n)
    return project.save_result(request, gen_result(request))


def _assert_counts_to(calls: list[tuple[int, int]], n: int) -> None:
    assert calls, "no progress reported"
    assert all(total == n for _done, total in calls)
    done = [d for d, _total in calls]
    assert done == sorted(done) and done[-1] == n


def test_rebuild_reports_each_image_read(project):
    entries = _fill(project, 4)
    project.delete([entries[0].id])  # files in the trash count too
    calls: list[tuple[int, int]] = []
    assert project.rebuild(on_progress=lambda done, total: calls.append((done, total))) == 4
    _assert_counts_to(calls, 4)


def test_check_and_repair_report_each_image_compared(project):
    entries = _fill(project, 3)
    entries[0].path.rename(entries[0].path.with_name("renamed.png"))  # to be indexed by the repair
    calls: list[tuple[int, int]] = []
    report = project.check(repair=True, on_progress=lambda done, total: calls.append((done, total)))
    assert report["repaired"] and report["entries"] == 3
    _assert_counts_to(calls, 3)


def test_cancelled_rebuild_leaves_the_index_as_it_was(project):
    entries = _fill(project, 3)
    project.set_favorite(entries[1].id, True)
    entries[2].path.unlink()  # a rebuild would drop this entry
    cancel = CancelToken()

    def cancel_after_first(done: int, _total: int) -> None:
        if done == 1:
            cancel.cancel()

    with pytest.raises(Cancelled):
        project.rebuild(on_progress=cancel_after_first, cancel=cancel)
    assert [e.id for e in project.query(sort="oldest")] == [e.id for e in entries]
    assert project.get(entries[1].id).favorite


def test_cancelled_repair_changes_nothing(project):
    entries = _fill(project, 2)
    entries[0].path.unlink()
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        project.check(repair=True, cancel=cancel)
    assert project.count() == 2 and project.check()["missing_files"] == [entries[0].id]
