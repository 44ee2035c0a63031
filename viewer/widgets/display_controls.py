"""Display controls dock: window/level presets, thick-slab MIP, saliency on/off and opacity, and
the clearly labelled demo toggle. Each control only calls back into the main window's actions."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QWidget,
)

from viewer.scene.heat import MEANING
from viewer.scene.overlays2d import DEFAULT_OPACITY
from viewer.scene.presets import DEFAULT_SLAB_MM, Preset, WindowLevel
from viewer.widgets.plain_text import plain_label, plain_tip


class DisplayControls(QWidget):
    preset_chosen = Signal(object)  # Preset
    slab_changed = Signal(object)  # float mm or None
    saliency_visible_changed = Signal(bool)
    saliency_opacity_changed = Signal(float)
    saliency_all_changed = Signal(bool)
    demo_toggled = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        presets = QHBoxLayout()
        self.preset_buttons: dict[Preset, QPushButton] = {}
        for p in Preset:
            b = QPushButton(f"{p.label} ({p.key})")
            b.setToolTip(plain_tip(f"W {p.window.width:g} / L {p.window.level:g}  — key {p.key}"))
            b.clicked.connect(lambda _=False, p=p: self.preset_chosen.emit(p))
            presets.addWidget(b)
            self.preset_buttons[p] = b
        form.addRow("Window", presets)
        self.window_label = plain_label()
        form.addRow("", self.window_label)
        slab = QHBoxLayout()
        self.slab_box = QCheckBox("Thick-slab MIP (M)")
        self.slab_mm = QDoubleSpinBox()
        self.slab_mm.setRange(1.0, 50.0)
        self.slab_mm.setSingleStep(1.0)
        self.slab_mm.setValue(DEFAULT_SLAB_MM)
        self.slab_mm.setSuffix(" mm")
        self.slab_box.toggled.connect(self._emit_slab)
        self.slab_mm.valueChanged.connect(self._emit_slab)
        slab.addWidget(self.slab_box)
        slab.addWidget(self.slab_mm)
        form.addRow("Slab", slab)
        sal = QHBoxLayout()
        self.saliency_box = QCheckBox("Saliency (H)")
        self.saliency_box.setChecked(True)
        self.saliency_box.toggled.connect(self.saliency_visible_changed)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(round(100 * DEFAULT_OPACITY))
        self.opacity.valueChanged.connect(lambda v: self.saliency_opacity_changed.emit(v / 100.0))
        sal.addWidget(self.saliency_box)
        sal.addWidget(plain_label("opacity"))
        sal.addWidget(self.opacity)
        form.addRow("Overlay", sal)
        self.saliency_all = QCheckBox("All findings' maps")
        self.saliency_all.setToolTip("Show every finding's saliency at once (each normalised over its "
                                     "own finding) instead of the selected finding's only")
        self.saliency_all.toggled.connect(self.saliency_all_changed)
        form.addRow("", self.saliency_all)
        self.meaning = plain_label(MEANING)  # names the maps' method: show_saliency_legend
        self.meaning.setWordWrap(True)
        form.addRow("", self.meaning)
        self.demo_box = QCheckBox("Demo: phantom truth")
        self.demo_box.setProperty("demo", True)
        self.demo_box.setToolTip("Show the demo phantom's true nodules as findings with a "
                                 "Gaussian-blob saliency. Not a detector output.")
        self.demo_box.toggled.connect(self.demo_toggled)
        self.demo_box.setEnabled(False)
        form.addRow("", self.demo_box)

    def _emit_slab(self, *_args) -> None:
        self.slab_changed.emit(self.slab_mm.value() if self.slab_box.isChecked() else None)

    def show_window(self, window: WindowLevel) -> None:
        self.window_label.setText(f"W {window.width:g}  L {window.level:g}")

    def show_slab(self, thickness_mm: float | None) -> None:
        self.slab_box.blockSignals(True)
        self.slab_box.setChecked(bool(thickness_mm))
        self.slab_box.blockSignals(False)

    def show_saliency_legend(self, text: str) -> None:
        self.meaning.setText(text)

    def show_saliency_visible(self, visible: bool) -> None:
        self.saliency_box.blockSignals(True)
        self.saliency_box.setChecked(visible)
        self.saliency_box.blockSignals(False)
