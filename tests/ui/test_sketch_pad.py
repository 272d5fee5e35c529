"""The sketch pad (scribble ControlNet input): strokes of real mouse events land as white lines on
black in the canvas's pixels and nowhere else, the eraser and the right button erase, undo and redo
restore pixels exactly (one step per stroke, at least 30 deep), clear is undoable, the pen size sets
the line's width, the PNG written is the image, and every control is named and explained."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QSlider, QSpinBox, QToolButton

from t2i_studio.ui.sketch_canvas import PEN_MAX, PEN_MIN, SketchCanvas, ink_of
from t2i_studio.ui.sketch_pad import SketchPad

LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
NONE = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def pad(qtbot):
    pad = SketchPad()
    qtbot.addWidget(pad)
    pad.resize(600, 700)
    pad.show()
    qtbot.waitExposed(pad)
    return pad


def drag(canvas: SketchCanvas, points, button=LEFT) -> None:
    """A stroke through ``points`` (canvas pixels), as the mouse makes it on the widget."""
    at = [canvas.from_canvas(QPointF(*p)).toPoint() for p in points]
    QTest.mousePress(canvas, button, NONE, at[0])
    for point in at[1:]:
        QTest.mouseMove(canvas, point)
    QTest.mouseRelease(canvas, button, NONE, at[-1])


def pixels(image: QImage) -> np.ndarray:
    """The image's grey values (it is white on black: R, G and B are the same), H x W."""
    assert image.format() == QImage.Format.Format_RGB888
    rows = np.frombuffer(bytes(image.constBits()), np.uint8).reshape(image.height(), image.bytesPerLine())
    rgb = rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3)
    assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()
    return rgb[..., 0].copy()


def distance_to_segment(shape, start, end) -> np.ndarray:
    """Each pixel centre's distance to the segment from ``start`` to ``end`` (x, y)."""
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]] + 0.5
    (ax, ay), (bx, by) = start, end
    length2 = (bx - ax) ** 2 + (by - ay) ** 2
    t = np.clip(((xs - ax) * (bx - ax) + (ys - ay) * (by - ay)) / max(length2, 1e-9), 0, 1)
    return np.hypot(xs - (ax + t * (bx - ax)), ys - (ay + t * (by - ay)))


def width_across(values: np.ndarray, x: int) -> int:
    """How many pixels of column ``x`` are inked (over half white)."""
    return int(np.count_nonzero(values[:, x] > 127))


def test_a_stroke_is_white_along_its_path_and_nowhere_far_from_it(pad):
    canvas = pad.canvas
    assert pad.is_empty()
    canvas.set_pen_size(10)
    drag(canvas, [(100, 200), (250, 200), (400, 300)])
    image = pad.image()
    assert (image.width(), image.height()) == (512, 512)
    values = pixels(image)
    for x, y in ((100, 200), (175, 200), (250, 200), (325, 250), (399, 299)):
        assert values[y, x] == 255, (x, y)
    near = np.minimum(distance_to_segment(values.shape, (100, 200), (250, 200)),
                      distance_to_segment(values.shape, (250, 200), (400, 300)))
    slack = 1.0  # the mouse moves in whole widget pixels, a little more than a canvas pixel each
    assert values[near > 5 + slack + 1].max() == 0  # nothing beyond the pen's reach
    assert (values[near < 5 - slack - 1] == 255).all()  # solid inside it
    assert not pad.is_empty()


def test_the_eraser_and_the_right_button_erase(pad):
    canvas = pad.canvas
    canvas.set_pen_size(12)
    drag(canvas, [(50, 100), (450, 100)])
    drag(canvas, [(150, 60), (150, 140)], RIGHT)  # the right button erases with the pen chosen
    canvas.use_eraser()
    assert canvas.erases and not canvas.tool_actions["sketch_pen"].isChecked()
    drag(canvas, [(300, 60), (300, 140)])
    values = pixels(pad.image())
    assert values[100, 150] == 0 and values[100, 300] == 0
    assert values[100, 80] == 255 and values[100, 225] == 255 and values[100, 400] == 255
    canvas.use_pen()
    drag(canvas, [(300, 60), (300, 140)])
    assert pixels(pad.image())[70, 300] == 255


def test_undo_restores_the_pixels_exactly_and_redo_reapplies(pad, qtbot):
    canvas = pad.canvas
    drag(canvas, [(60, 60), (300, 200)])
    first = pixels(pad.image())
    canvas.set_pen_size(30)
    drag(canvas, [(100, 300), (200, 250), (420, 420)])
    second = pixels(pad.image())
    assert (first != second).any()
    assert canvas.can_undo() and not canvas.can_redo()
    canvas.undo()
    assert np.array_equal(pixels(pad.image()), first)
    assert canvas.can_redo()
    canvas.redo()
    assert np.array_equal(pixels(pad.image()), second)
    canvas.undo()
    canvas.undo()
    assert pad.is_empty() and not canvas.can_undo()
    canvas.undo()  # nothing left: no change
    assert pad.is_empty()
    canvas.redo()
    assert np.array_equal(pixels(pad.image()), first)
    drag(canvas, [(10, 10), (20, 20)])  # a new stroke drops what could be redone
    assert not canvas.can_redo()


def test_undo_redo_and_pen_size_keys(pad, qtbot):
    canvas = pad.canvas
    pad.activateWindow()
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus, timeout=2000)
    drag(canvas, [(100, 100), (400, 100)])
    drawn = pixels(pad.image())
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert pad.is_empty()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(pixels(pad.image()), drawn)
    canvas.undo()
    qtbot.keyClick(canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(pixels(pad.image()), drawn)
    canvas.set_pen_size(20)
    qtbot.keyClick(canvas, Qt.Key.Key_BracketRight)
    assert canvas.pen_size == 25 and pad.size_spin.value() == 25 and pad.size_slider.value() == 25
    qtbot.keyClick(canvas, Qt.Key.Key_BracketLeft)
    assert canvas.pen_size == 20
    qtbot.keyClick(canvas, Qt.Key.Key_E)
    assert canvas.erases
    qtbot.keyClick(canvas, Qt.Key.Key_B)
    assert not canvas.erases


def test_one_undo_step_per_stroke_at_least_thirty_deep(pad):
    canvas = pad.canvas
    canvas.set_pen_size(4)
    states = [pixels(pad.image())]
    for i in range(32):
        drag(canvas, [(10 + i * 15, 20), (10 + i * 15, 60), (12 + i * 15, 90)])
        states.append(pixels(pad.image()))
    for state in reversed(states[:-1]):
        canvas.undo()
        assert np.array_equal(pixels(pad.image()), state)
    assert pad.is_empty()


def test_an_eraser_stroke_over_nothing_is_no_step(pad):
    drag(pad.canvas, [(100, 100), (200, 200)], RIGHT)
    assert not pad.canvas.can_undo() and pad.is_empty()


def test_clear_then_undo(pad):
    canvas = pad.canvas
    drag(canvas, [(100, 100), (300, 400)])
    drawn = pixels(pad.image())
    canvas.clear()
    assert pad.is_empty()
    canvas.undo()
    assert np.array_equal(pixels(pad.image()), drawn)
    canvas.redo()
    assert pad.is_empty()


def test_the_pen_size_sets_the_line_width(pad):
    canvas = pad.canvas
    widths = {}
    for size, y in ((4, 100), (20, 300)):
        pad.size_spin.setValue(size)
        assert canvas.pen_size == size and pad.size_slider.value() == size
        drag(canvas, [(50, y), (450, y)])
        widths[size] = width_across(pixels(pad.image()), 250)
        canvas.clear()
    assert abs(widths[4] - 4) <= 1 and abs(widths[20] - 20) <= 1
    canvas.set_pen_size(1000)
    assert canvas.pen_size == PEN_MAX
    canvas.set_pen_size(0)
    assert canvas.pen_size == PEN_MIN


def test_save_png_writes_the_same_pixels_atomically(pad, tmp_path):
    drag(pad.canvas, [(30, 40), (480, 470)])
    target = tmp_path / "sketch.png"
    target.write_bytes(b"old")  # replaced whole
    assert pad.save_png(target) == str(target)
    with Image.open(target) as saved:
        assert saved.format == "PNG" and saved.mode == "RGB" and saved.size == (512, 512)
        assert np.array_equal(np.asarray(saved)[..., 0], pixels(pad.image()))
        assert np.array_equal(np.asarray(saved)[..., 0], np.asarray(saved)[..., 2])
    assert [p.name for p in tmp_path.iterdir()] == ["sketch.png"]  # no temp file left


def test_changed_after_every_stroke_undo_redo_and_clear(pad):
    seen = []
    pad.changed.connect(lambda: seen.append(len(seen)))
    canvas = pad.canvas
    drag(canvas, [(100, 100), (200, 150), (300, 100)])
    assert len(seen) == 1  # once, when the stroke ends
    for act in (canvas.undo, canvas.redo, canvas.clear, canvas.undo):
        act()
    assert len(seen) == 5
    canvas.set_pen_size(30)
    assert len(seen) == 5  # a pen size is no change to the picture


def test_the_canvas_size_follows_the_generation_and_stretches_the_drawing(pad):
    canvas = pad.canvas
    canvas.set_pen_size(8)
    drag(canvas, [(256, 100), (256, 400)])  # a vertical line in the middle
    canvas.undo()
    canvas.redo()
    pad.set_canvas_size(768, 512)
    assert (pad.canvas_size().width(), pad.canvas_size().height()) == (768, 512)
    assert "768 × 512" in pad.size_choice.currentText() and "generation" in pad.size_choice.currentText()
    values = pixels(pad.image())
    assert values.shape == (512, 768)
    assert values[250, 384] == 255 and values[250, 300] == 0  # still in the middle
    assert not canvas.can_undo()  # a new size starts the history afresh
    index = pad.size_choice.findData("1024x1024")
    pad.size_choice.setCurrentIndex(index)
    pad.size_choice.activated.emit(index)
    assert pad.canvas_size().width() == 1024
    canvas.set_canvas_size(512, 512, keep=False)
    assert pad.is_empty()


def test_load_image_turns_dark_lines_on_light_white_on_black(pad, tmp_path):
    drawing = Image.new("RGB", (256, 256), "white")
    drawing.paste((0, 0, 0), (100, 0, 110, 256))  # a dark vertical bar on white paper
    path = tmp_path / "lines.png"
    drawing.save(path)
    pad.load_image(path)
    values = pixels(pad.image())
    assert values.shape == (512, 512)  # stretched to the canvas
    assert values[256, 210] == 255 and values[256, 100] == 0 and values[256, 400] == 0
    pad.canvas.undo()  # loading is one step
    assert pad.is_empty()
    # White lines on black (a control map already) are kept as they are; lines on a clear layer too.
    assert np.asarray(ink_of(Image.new("L", (8, 8), 0)).point(lambda v: v)).max() == 0
    layer = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    layer.putpixel((3, 3), (0, 0, 0, 255))
    assert np.asarray(ink_of(layer))[3, 3] == 255 and np.asarray(ink_of(layer)).sum() == 255


def test_load_image_of_a_broken_file_changes_nothing(pad, tmp_path):
    from t2i_studio.core.project_errors import ImageReadError

    drag(pad.canvas, [(100, 100), (200, 200)])
    before = pixels(pad.image())
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    with pytest.raises(ImageReadError):
        pad.load_image(broken)
    assert np.array_equal(pixels(pad.image()), before)


def test_every_control_is_named_and_explained_with_its_keys(pad):
    controls = [pad.canvas, *pad.findChildren(QToolButton), *pad.findChildren(QSlider),
                *pad.findChildren(QSpinBox), *pad.findChildren(QComboBox)]
    assert len(pad.findChildren(QToolButton)) == 5
    for control in controls:
        assert control.accessibleName(), control
        assert control.toolTip(), control.accessibleName()
    tips = {button.accessibleName(): button.toolTip() for button in pad.findChildren(QToolButton)}
    assert "Ctrl+Z" in tips["Undo"] and "Ctrl+Shift+Z" in tips["Redo"] and "Ctrl+Y" in tips["Redo"]
    assert "(B)" in tips["Pen"] and "(E)" in tips["Eraser"]
    assert "[" in pad.size_slider.toolTip() and "]" in pad.size_spin.toolTip()
    assert not pad.buttons["sketch_undo"].isEnabled()  # nothing to undo yet
    drag(pad.canvas, [(100, 100), (101, 101)])
    assert pad.buttons["sketch_undo"].isEnabled() and not pad.buttons["sketch_redo"].isEnabled()


def test_a_stylus_eraser_end_erases(pad):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent

    canvas = pad.canvas
    canvas.set_pen_size(12)
    drag(canvas, [(50, 100), (450, 100)])
    eraser = QPointingDevice("test eraser", 7, QInputDevice.DeviceType.Stylus, QPointingDevice.PointerType.Eraser,
                             QInputDevice.Capability.Position | QInputDevice.Capability.Pressure, 1, 2)
    at = canvas.from_canvas(QPointF(250, 60))
    press = QTabletEvent(QEvent.Type.TabletPress, eraser, at, canvas.mapToGlobal(at), 1.0, 0.0, 0.0, 0.0, 0.0,
                         0.0, NONE, LEFT, LEFT)
    canvas.tabletEvent(press)
    assert not press.isAccepted()  # Qt makes the mouse events of it
    drag(canvas, [(250, 60), (250, 140)])  # the mouse events Qt makes of the stylus
    values = pixels(pad.image())
    assert values[100, 250] == 0 and values[100, 100] == 255
    drag(canvas, [(250, 60), (250, 140)])  # a mouse afterwards draws again
    assert pixels(pad.image())[100, 250] == 255
