"""The finding card: key image (box and saliency) and the selected finding in words. Thin: it shows a
:class:`~viewer.review.finding_rows.FindingCard` and a uint8 RGB image computed elsewhere."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QVBoxLayout, QWidget

from viewer.review.finding_rows import FindingCard
from viewer.widgets.plain_text import PlainLabel, plain_label


def _plain(text: str = "") -> PlainLabel:
    return plain_label(text, wrap=True, selectable=True)  # finding text may carry DICOM header data


class FindingCardView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = plain_label()
        self.image.setFixedSize(192, 192)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setStyleSheet("background: black;")
        self.title = _plain("No finding selected")
        self.title.setStyleSheet("font-weight: bold;")
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        text = QVBoxLayout()
        text.addWidget(self.title)
        text.addLayout(self.form)
        text.addStretch(1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.image, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(text, 1)
        self.values: dict[str, PlainLabel] = {}

    def show_card(self, card: FindingCard | None, image: np.ndarray | None = None) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.values = {}
        if card is None:
            self.title.setText("No finding selected")
            self.image.clear()
            return
        self.title.setText(card.title)
        for label, value in card.lines:
            v = _plain(value)
            self.values[label] = v
            self.form.addRow(_plain(label), v)
        self.show_image(image)

    def show_image(self, image: np.ndarray | None) -> None:
        if image is None:
            self.image.clear()
            return
        rgb = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
        h, w, _ = rgb.shape
        qimg = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.image.setPixmap(QPixmap.fromImage(qimg).scaled(
            self.image.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
