"""Take the README's screenshots of the real app window under Xvfb (and review the UI with them).

Starts Xvfb (when no DISPLAY is set; ``apt-get install xvfb``), opens the real window on a
temporary project in a temporary home (so the built-in starter model is the only model, as on a
fresh install), generates starter pictures for a few captions and stylizes one (random VGG weights:
nothing is downloaded), then saves four PNGs of the window: the Generate panel with the gallery
(``screenshot.png``), the style panel (``screenshot-style.png``), the inpainting mask tools over
a picture (``screenshot-editing.png``) and a sketch steering a scribble ControlNet
(``screenshot-sketch.png``); a tiny random-weight SD model and ControlNet from the tests stand in
for downloaded ones, since the starter model does neither.

    python scripts/screenshot.py [--out-dir docs] [--size 1440x900]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_xvfb(size: str) -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    if not shutil.which("Xvfb"):
        sys.exit("Xvfb is not installed (apt-get install -y xvfb), and no DISPLAY is set.")
    display = ":97"
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{size}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["DISPLAY"] = display
    time.sleep(1.0)
    return proc


def wait_until(qapp, condition, timeout: float = 300.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not finish in time")
        qapp.processEvents()
        time.sleep(0.01)


def save_shot(qapp, window, path: Path) -> None:  # noqa: ANN001
    for _ in range(50):
        qapp.processEvents()
        time.sleep(0.02)
    shot = window.screen().grabWindow(0, window.x(), window.y(), window.width(), window.height())
    if shot.isNull() or shot.width() < 10:
        shot = window.grab()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not shot.save(str(path)):
        sys.exit(f"could not write {path}")
    print(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=str(ROOT / "docs"))
    parser.add_argument("--size", default="1440x900", help="window size WxH")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    xvfb = start_xvfb(f"{width + 40}x{height + 40}")
    home = Path(tempfile.mkdtemp(prefix="t2i-shot-"))
    os.environ.update(T2I_STUDIO_HOME=str(home), HF_HUB_OFFLINE="1", T2I_STUDIO_VGG_WEIGHTS="random",
                      QT_QPA_PLATFORM="xcb")
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    try:
        from PySide6.QtCore import Qt

        from t2i_studio import app

        qapp, window = app.build(str(home / "Demo project"), ["t2i-studio"])
        window.setGeometry(20, 20, width, height)
        window.show()
        finished: list[list[int]] = []
        window.runner.job_finished.connect(lambda _job, ids: finished.append(list(ids)))
        window.runner.job_failed.connect(lambda _job, msg, _d: sys.exit(f"job failed: {msg}"))

        p = window.prompt_panel
        wait_until(qapp, lambda: bool(p.model_id()), timeout=60)  # the catalog is listed after showing
        if p.model_id() != "starter":
            sys.exit(f"the starter model is not the one chosen on a fresh install: {p.model_id()!r}")
        p.size.set_size(256, 256)
        p.batch_size.setValue(3)
        prompts = ("two yellow stars on a blue background", "a purple heart left of a green square",
                   "a small red circle in the top left on a black background")
        for prompt in prompts:
            p.prompt.setPlainText(prompt)
            window.generate()
        wait_until(qapp, lambda: len(finished) == len(prompts))
        shown = finished[1][0]

        s = window.style_panel
        source = finished[-1][0]
        window.stylize_entry(source)
        styles = [s.styles.grid.item(i).data(Qt.ItemDataRole.UserRole) for i in (0, 3)]
        s.styles.set_chosen(styles, [0.7, 0.3])
        s.size.setValue(192)
        s.iterations.setValue(12)
        window.stylize()
        wait_until(qapp, lambda: len(finished) == len(prompts) + 1)

        window.gallery.refresh()
        window.gallery.select_ids([shown])
        window.show_entry(shown)
        window.message_bar.hide()
        p.prompt.setPlainText("two yellow stars on a blue background, large")
        window.generate_dock.raise_()
        window.statusBar().showMessage("Saved 3 images.")
        out = Path(args.out_dir)
        save_shot(qapp, window, out / "screenshot.png")

        window.style_dock.raise_()
        window.gallery.select_ids([finished[-1][0]])
        window.show_entry(finished[-1][0])
        window.stylize_entry(source)  # the content well shows the source of the result on screen
        window.statusBar().showMessage("Saved 1 image.")
        save_shot(qapp, window, out / "screenshot-style.png")

        from PySide6.QtCore import QPointF

        import tiny_models

        model = str(tiny_models.build_sd(home / "tiny-sd"))
        window.catalog.add(model)
        window.refresh_models()
        wait_until(qapp, lambda: p.model.findData(model) >= 0, timeout=60)
        p.set_model(model)
        window.gallery.select_ids([source])
        window.entries.inpaint_entry(source)
        tools = window.viewer.mask_tools
        for start_at, end_at in (((60, 40), (110, 90)), ((110, 90), (140, 80))):  # a stroke over the circle
            tools.canvas.stroke(QPointF(*start_at), QPointF(*end_at), 36)
        tools._edited()
        p.prompt.setPlainText("a small red apple in the top left on a black background")
        window.statusBar().showMessage("Paint where the picture should change, then Generate.")
        save_shot(qapp, window, out / "screenshot-editing.png")

        # a sketch on the pad steering the tiny model through a tiny scribble ControlNet
        tools.clear()
        p.edit.set_edit_mode("")
        net = str(tiny_models.build_controlnet(Path(model), home / "tiny-scribble"))
        window.catalog.add(net)
        window.refresh_models()
        wait_until(qapp, lambda: bool(p.control.fitting()), timeout=60)
        window.centre_tabs.setCurrentWidget(window.sketch_pad)
        canvas = window.sketch_pad.canvas
        canvas.set_pen_size(10)
        from PySide6.QtTest import QTest

        side = canvas.canvas_size()
        for line in (((0.2, 0.75), (0.5, 0.25), (0.8, 0.75), (0.2, 0.75)), ((0.5, 0.4), (0.5, 0.75))):  # a tent
            at = [canvas.from_canvas(QPointF(x * side.width(), y * side.height())).toPoint() for x, y in line]
            QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at[0])
            for point in at[1:]:
                QTest.mouseMove(canvas, point)
            QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at[-1])
        row = p.control.add_row()
        row.source.setCurrentIndex(row.source.findData("sketch"))
        p.control.take_sketch()
        p.prompt.setPlainText("a red tent in a green meadow, evening light")
        window.statusBar().showMessage("Sketch a layout, type a prompt, generate.")
        from PySide6.QtWidgets import QScrollArea

        window.generate_dock.findChild(QScrollArea).ensureWidgetVisible(p.control, 0, 0)
        save_shot(qapp, window, out / "screenshot-sketch.png")
        window.close()
        return 0
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(10)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
