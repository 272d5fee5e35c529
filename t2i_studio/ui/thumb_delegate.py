"""Thumbnails drawn as they are: a selected picture gets a frame around it, never a tint over it
(its colours must stay judgeable), and a small badge shows what the model puts in ``BADGE_ROLE``
(a gallery entry's favourite heart and rating stars)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

BADGE_ROLE = Qt.ItemDataRole.UserRole + 40  # short text drawn over the picture's top-left corner
FRAME_PX = 3

_Index = QModelIndex | QPersistentModelIndex


class ThumbnailDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        opt.state &= ~QStyle.StateFlag.State_Selected  # the style would tint the icon
        opt.state &= ~QStyle.StateFlag.State_HasFocus
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        picture = style.subElementRect(QStyle.SubElement.SE_ItemViewItemDecoration, opt, widget)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if selected:
            self._frame(painter, opt, picture)
        badge = index.data(BADGE_ROLE)
        if badge:
            self._badge(painter, picture, str(badge))
        painter.restore()

    @staticmethod
    def _frame(painter: QPainter, opt: QStyleOptionViewItem, picture: QRect) -> None:
        color = opt.palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
        painter.setPen(QPen(color, FRAME_PX))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        half = FRAME_PX // 2 + 1
        painter.drawRoundedRect(picture.adjusted(-half, -half, half, half), 3, 3)
        text = opt.rect.adjusted(0, picture.bottom() - opt.rect.top() + FRAME_PX, 0, 0)
        painter.fillRect(text.adjusted(2, 0, -2, 0), color)  # the caption shows the selection too
        painter.setPen(opt.palette.color(QPalette.ColorRole.HighlightedText))
        painter.drawText(text.adjusted(4, 0, -4, 0), int(opt.displayAlignment),
                         opt.fontMetrics.elidedText(opt.text, Qt.TextElideMode.ElideRight, text.width() - 8))

    @staticmethod
    def _badge(painter: QPainter, picture: QRect, text: str) -> None:
        metrics = painter.fontMetrics()
        box = QRect(picture.left() + 3, picture.top() + 3, metrics.horizontalAdvance(text) + 8, metrics.height() + 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))  # readable on light and dark pictures alike
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(255, 214, 64))
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), text)
