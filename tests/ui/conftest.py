"""Window tests: no JobRunner QThread may outlive its test (fixture in ui_helpers)."""

from ui_helpers import no_worker_thread_left  # noqa: F401
