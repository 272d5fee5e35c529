"""The viewer: the current image (fit, 100%, wheel zoom, drag to pan), its mask tools for inpainting
(``mask_editor``), and during a job the live preview with a progress bar showing step x/y, elapsed
and remaining time."""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QHBoxLayout, QLabel, QProgressBar,
    QPushButton, QSlider, QVBoxLayout, QWidget,
)

from t2i_studio.ui.controls import ElidedLabel
from t2i_studio.ui.mask_editor import MaskTools


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


class ImageView(QGraphicsView):
    """Shows one image; fit-to-window by default, wheel zooms around the cursor, drag pans."""

    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHints(QPainter.RenderHint.SmoothPixmapTransform | QPainter.RenderHint.Antialiasing)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setAccessibleName("Image viewer")
        self.fit_mode = True
        self.zoom_changed.connect(self._pixels_for_zoom)
        self._compare: QPixmap | None = None  # the source, drawn left of the split over the result
        self.split = 0.5

    def set_compare(self, source: QPixmap | None, split: float | None = None) -> None:
        """Before/after: ``source`` on the left of ``split`` (0..1 of the width), the image right."""
        self._compare = source
        if split is not None:
            self.split = min(max(split, 0.0), 1.0)
        self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt's name
        if self._compare is None or not self.has_image():
            return
        target = self._item.boundingRect()
        left = QRectF(target.left(), target.top(), target.width() * self.split, target.height())
        painter.save()
        painter.setClipRect(left)
        painter.drawPixmap(target, self._compare, QRectF(self._compare.rect()))  # scaled to the result
        painter.restore()
        pen = QPen(QColor(255, 255, 255), 2)
        pen.setCosmetic(True)  # two screen pixels at any zoom
        painter.setPen(pen)
        painter.drawLine(left.topRight(), left.bottomRight())

    def _pixels_for_zoom(self, zoom: float) -> None:
        """Enlarged, each pixel is a crisp square (nearest neighbour) so artists can inspect it;
        reduced, the image is smoothed."""
        mode = Qt.TransformationMode.FastTransformation if zoom > 1.0 else Qt.TransformationMode.SmoothTransformation
        self._item.setTransformationMode(mode)

    def set_image(self, image: QImage | QPixmap) -> None:
        pixmap = image if isinstance(image, QPixmap) else QPixmap.fromImage(image)
        same_size = not self._item.pixmap().isNull() and self._item.pixmap().size() == pixmap.size()
        self._item.setPixmap(pixmap)
        self.scene().setSceneRect(QRectF(pixmap.rect()))
        if self.fit_mode or not same_size:
            self.fit()

    def clear(self) -> None:
        self._item.setPixmap(QPixmap())

    def has_image(self) -> bool:
        return not self._item.pixmap().isNull()

    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        self.fit_mode = True
        if self.has_image():
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)
        self.zoom_changed.emit(self.zoom())

    def actual_size(self) -> None:
        self.fit_mode = False
        self.resetTransform()
        self.zoom_changed.emit(1.0)

    def zoom_by(self, factor: float) -> None:
        new = min(max(self.zoom() * factor, 0.02), 32.0)
        self.fit_mode = False
        factor = new / self.zoom()
        self.scale(factor, factor)
        self.zoom_changed.emit(self.zoom())

    def wheelEvent(self, event) -> None:  # noqa: ANN001, N802
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(1.25 ** steps)
        event.accept()

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802
        super().resizeEvent(event)
        if self.fit_mode and self.has_image():
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)


class Viewer(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ImageView(self)
        self.notice = QLabel(self)
        self.notice.setWordWrap(True)
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setAccessibleName("Viewer notice")
        self.caption = ElidedLabel(self)
        self.caption.setAccessibleName("Image caption")
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fit_button = QPushButton("Fit", self)
        self.fit_button.setToolTip("Fit the image to the window (Ctrl+0)")
        self.actual_button = QPushButton("100%", self)
        self.actual_button.setToolTip("Show the image at its actual size (Ctrl+1)")
        self.zoom_label = QLabel(self)
        self.zoom_label.setAccessibleName("Zoom level")
        self.compare_button = QPushButton("Compare", self)
        self.compare_button.setCheckable(True)
        self.compare_button.setToolTip("Before and after: the source on the left of the split, the result on the right")
        self.compare_button.hide()
        self.split_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.split_slider.setRange(0, 100)
        self.split_slider.setValue(50)
        self.split_slider.setAccessibleName("Before/after split")
        self.split_slider.setToolTip("Where the source ends and the result begins")
        self.split_slider.hide()
        self._source_path: str | None = None
        self._source: QPixmap | None = None  # its pixels, read once Compare is on
        self.progress = QProgressBar(self)
        self.progress.setAccessibleName("Job progress")
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.mask_tools = MaskTools(self.view, self.show_file, self)
        self.fit_button.clicked.connect(self.view.fit)
        self.actual_button.clicked.connect(self.view.actual_size)
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        self.compare_button.toggled.connect(self._compare_toggled)
        self.split_slider.valueChanged.connect(lambda _v: self._compare_toggled(self.compare_button.isChecked()))

        bar = QHBoxLayout()
        bar.addWidget(self.caption, 1)
        bar.addWidget(self.split_slider)
        bar.addWidget(self.compare_button)
        bar.addWidget(self.mask_tools.button)
        bar.addWidget(self.zoom_label)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.actual_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.notice)
        layout.addWidget(self.mask_tools.tool_bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.progress)
        layout.addLayout(bar)
        self.notice.hide()
        self._job_started = self._steps_started = 0.0
        self._before_job = ("", "")
        self.current_path = ""

    # --- images ----------------------------------------------------------------------------------
    def show_file(self, path: str, caption: str = "") -> bool:
        reader = QImageReader(str(path))
        reader.setAutoTransform(True)
        image = reader.read()
        if image.isNull():
            self.caption.setText(f"Cannot show {path}: {reader.errorString()}")
            return False
        self.current_path = str(path)
        self.set_source(None)  # another image: whoever shows it says what it was made from
        self.view.set_image(image)
        self.mask_tools.image_shown(self.current_path, image.size())
        self.caption.setText(caption)
        return True

    def set_source(self, path: str | None) -> None:
        """The image the shown one was made from (stylized, img2img, edited): offers Compare. Only
        its header is read here; the pixels when Compare is turned on."""
        self._source_path = path if path and QImageReader(path).canRead() else None
        self._source = None
        self.compare_button.setVisible(self._source_path is not None)
        if self._source_path is None:
            self.compare_button.setChecked(False)
        self._compare_toggled(self.compare_button.isChecked())

    def _compare_toggled(self, on: bool) -> None:
        if on and self._source is None and self._source_path is not None:
            pixmap = QPixmap(self._source_path)
            self._source = None if pixmap.isNull() else pixmap
        self.split_slider.setVisible(on and self._source is not None)
        self.view.set_compare(self._source if on else None, self.split_slider.value() / 100)

    def show_preview(self, image: QImage) -> None:
        self.view.set_image(image)
        self.mask_tools.image_shown("", image.size())  # not the mask's picture: no mask over it

    def set_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    # --- progress --------------------------------------------------------------------------------
    def job_started(self, label: str = "") -> None:
        self._job_started = time.monotonic()
        self._steps_started = 0.0
        self._before_job = (self.current_path, self.caption.text())
        self.progress.setRange(0, 0)  # busy until the first step (loading the model is a phase)
        self.progress.setFormat("Starting…")
        self.progress.show()
        self.set_source(None)
        self.caption.setText(f"Making: {label}" if label else "Making…")  # not the last image's info

    def job_message(self, message: str) -> None:
        """What the job is doing before its first step (e.g. "Loading model…", download bytes)."""
        if self.progress.maximum() == 0:
            self.progress.setFormat(message)

    def job_progress(self, step: int, total: int) -> None:
        if step <= 0:
            return  # still loading: the busy bar and its message stay
        now = time.monotonic()
        if not self._steps_started:
            self._steps_started = now - 1e-6  # the estimate counts from the first step, not the load
        elapsed = now - self._job_started
        per_step = (now - self._steps_started) / step
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(step)
        self.progress.setFormat(f"Step {step}/{total} · {format_seconds(elapsed)} elapsed · "
                                f"{format_seconds(per_step * (total - step))} left")

    def job_ended(self, *, cancelled: bool = False) -> None:
        self.progress.hide()
        if cancelled:  # the half-made preview goes: back to what was shown before the job
            path, caption = self._before_job
            if path and self.show_file(path, caption):
                return
            self.view.clear()
            self.mask_tools.image_shown("", QSize())
            self.caption.setText("")
