"""The comparison layout: the prior beside the current exam, linked through the registration.

The prior is shown resampled onto the current exam's grid through the registration
(:func:`inference.longitudinal.resample_prior`), so one slice index, one crosshair point and one
zoom are the same anatomy in both: scrolling (wheel), clicking (crosshair) or zooming (Ctrl+wheel)
in one pane moves the other. Both share one window/level. The table lists every nodule with its
prior size, change, doubling time and Lung-RADS with comparison; selecting a row centres both panes
on it and draws its growth chart (mean diameter and volume over the timeline).
``install_followup(window, store)`` adds Follow-up ▸ Compare with prior (Ctrl+Shift+F).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QSplitter, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from inference.imaging.volume import Volume
from inference.longitudinal.types import PairStatus
from viewer.review.followup_rows import FollowupRow
from viewer.widgets.plain_text import PlainLabel, plain_label, plain_tip

COLUMNS = ("finding", "status", "now", "prior", "change", "doubling time", "Lung-RADS")
WINDOW = (-600.0, 1500.0)  # lung window: level, width


def window_slice(vox: np.ndarray, level: float, width: float) -> np.ndarray:
    lo = level - width / 2.0
    return np.clip((vox.astype(np.float32) - lo) * (255.0 / width), 0, 255).astype(np.uint8)


def growth_chart_png(row: FollowupRow, size_px: tuple[int, int] = (420, 220)) -> bytes:
    """Mean diameter (left axis) and volume (right axis) against date, as PNG bytes."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.dates import date2num
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size_px[0] / 100, size_px[1] / 100), dpi=100)
    ax = fig.add_subplot(111)
    ax.plot(date2num(list(row.dates)), row.diameters_mm, "o-", color="tab:blue")
    ax.xaxis_date()
    ax.set_ylabel("mean diameter (mm)", color="tab:blue")
    vols = [(d, v) for d, v in zip(row.dates, row.volumes_mm3, strict=True) if v]
    if vols:
        ax2 = ax.twinx()
        ax2.plot(date2num([d for d, _ in vols]), [v for _, v in vols], "s--", color="tab:orange")
        ax2.set_ylabel("volume (mm³)", color="tab:orange")
    ax.set_title(f"{row.key}: {row.doubling_time}", fontsize=9)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


class SlicePane(PlainLabel):
    """One axial slice with the shared crosshair; reports clicks, wheel steps and zoom steps."""

    clicked = Signal(float, float)  # row, column (voxel units)
    scrolled = Signal(int)
    zoomed = Signal(float)
    windowed = Signal(float, float)  # change of level, change of width (HU), from a right-button drag

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title = title
        self.setMinimumSize(256, 256)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._geom = (0.0, 0.0, 1.0)  # x0, y0, scale of the drawn image
        self._drag: tuple[float, float] | None = None

    def show_slice(self, img: np.ndarray, cross: tuple[float, float], zoom: float, title: str) -> None:
        h, w = img.shape
        qimg = QImage(np.ascontiguousarray(img).data, w, h, w, QImage.Format.Format_Grayscale8).copy()
        scale = min(self.width() / w, self.height() / h) * zoom
        pix = QPixmap.fromImage(qimg).scaled(int(w * scale), int(h * scale), Qt.AspectRatioMode.KeepAspectRatio)
        canvas = QPixmap(self.width(), self.height())
        canvas.fill(Qt.GlobalColor.black)
        p = QPainter(canvas)
        x0 = self.width() / 2 - cross[1] * scale if zoom > 1 else (self.width() - pix.width()) / 2
        y0 = self.height() / 2 - cross[0] * scale if zoom > 1 else (self.height() - pix.height()) / 2
        p.drawPixmap(int(x0), int(y0), pix)
        p.setPen(QPen(Qt.GlobalColor.yellow, 1))
        cx, cy = x0 + (cross[1] + 0.5) * scale, y0 + (cross[0] + 0.5) * scale
        p.drawLine(int(cx), 0, int(cx), self.height())
        p.drawLine(0, int(cy), self.width(), int(cy))
        p.setPen(Qt.GlobalColor.white)
        p.drawText(8, 18, title)  # plain text: drawText never interprets markup
        p.end()
        self._geom = (x0, y0, scale)
        self.setPixmap(canvas)

    def mousePressEvent(self, ev: Any) -> None:
        if ev.button() == Qt.MouseButton.RightButton:
            self._drag = (ev.position().x(), ev.position().y())
            return
        x0, y0, s = self._geom
        self.clicked.emit((ev.position().y() - y0) / s - 0.5, (ev.position().x() - x0) / s - 0.5)

    def mouseMoveEvent(self, ev: Any) -> None:
        if self._drag is None:
            return
        x, y = ev.position().x(), ev.position().y()
        self.windowed.emit(4.0 * (y - self._drag[1]), 4.0 * (x - self._drag[0]))
        self._drag = (x, y)

    def mouseReleaseEvent(self, ev: Any) -> None:
        self._drag = None

    def wheelEvent(self, ev: Any) -> None:
        step = 1 if ev.angleDelta().y() > 0 else -1
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoomed.emit(1.25 if step > 0 else 0.8)
        else:
            self.scrolled.emit(step)


class FollowupView(QWidget):
    """Prior (registered) | current, the nodule table and the growth chart."""

    def __init__(self, current: Volume, prior_on_current: Volume, rows: list[FollowupRow], header: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.current, self.prior = current, prior_on_current
        self.rows = rows
        self.k = current.shape[0] // 2
        self.cross = (current.shape[1] / 2.0, current.shape[2] / 2.0)
        self.zoom = 1.0
        self.level, self.width_hu = WINDOW
        self.prior_pane, self.current_pane = SlicePane("prior"), SlicePane("current")
        for pane in (self.prior_pane, self.current_pane):
            pane.clicked.connect(self.set_cross)
            pane.scrolled.connect(lambda s: self.set_slice(self.k + s))
            pane.zoomed.connect(self.set_zoom)
            pane.windowed.connect(lambda dl, dw: self.set_window(self.level + dl, self.width_hu + dw))
        self.header = plain_label(header, wrap=True)
        self.table = QTableWidget(len(rows), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for i, r in enumerate(rows):
            for j, text in enumerate((r.key, r.status.value, r.current_size, r.prior_size, r.change,
                                      r.doubling_time, r.lung_rads)):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tip(r.reason))
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self.table.itemSelectionChanged.connect(self._row_selected)
        self.reason = plain_label(wrap=True)
        self.chart = plain_label()
        panes = QHBoxLayout()
        panes.addWidget(self.prior_pane)
        panes.addWidget(self.current_pane)
        top = QWidget()
        top.setLayout(panes)
        bottom = QWidget()
        lay = QHBoxLayout(bottom)
        left = QVBoxLayout()
        left.addWidget(self.table)
        left.addWidget(self.reason)
        lay.addLayout(left, 3)
        lay.addWidget(self.chart, 2)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([520, 300])
        outer = QVBoxLayout(self)
        outer.addWidget(self.header)
        outer.addWidget(split)

    def set_slice(self, k: int) -> None:
        self.k = int(np.clip(k, 0, self.current.shape[0] - 1))
        self.redraw()

    def set_cross(self, row: float, col: float) -> None:
        self.cross = (float(row), float(col))
        self.redraw()

    def set_zoom(self, factor: float) -> None:
        self.zoom = float(np.clip(self.zoom * factor, 1.0, 8.0))
        self.redraw()

    def set_window(self, level: float, width: float) -> None:
        """One window/level for both panes."""
        self.level, self.width_hu = float(level), float(max(1.0, width))
        self.redraw()

    def centre_on(self, world: tuple[float, float, float]) -> None:
        z, y, x = self.current.world_to_index(world)
        self.k = int(np.clip(round(z), 0, self.current.shape[0] - 1))
        self.cross = (float(y), float(x))
        self.redraw()

    def select(self, i: int) -> None:
        self.table.selectRow(i)

    def _row_selected(self) -> None:
        sel = self.table.selectionModel().selectedRows()
        if not sel:
            return
        r = self.rows[sel[0].row()]
        self.centre_on(r.center)
        self.reason.setText(r.reason)
        pix = QPixmap()
        pix.loadFromData(growth_chart_png(r))
        self.chart.setPixmap(pix)

    def redraw(self) -> None:
        for pane, vol, name in ((self.prior_pane, self.prior, "prior"), (self.current_pane, self.current, "current")):
            img = window_slice(vol.voxels[self.k], self.level, self.width_hu)
            date = vol.info.study_date
            pane.show_slice(img, self.cross, self.zoom, f"{name} {date[:4]}-{date[4:6]}-{date[6:]}  slice {self.k}")

    def resizeEvent(self, ev: Any) -> None:
        super().resizeEvent(ev)
        self.redraw()


class _Done(QObject):
    finished = Signal(object)
    failed = Signal(object)


def install_followup(window: Any, store: Any) -> Any:
    """Follow-up ▸ Compare with prior (Ctrl+Shift+F): compares the open exam with its prior in a worker
    thread, then docks the comparison layout. Typed errors are shown; the exam stays a baseline read."""
    import threading

    from PySide6.QtGui import QAction

    done = _Done(window)
    action = QAction("Compare with prior", window)

    def work(series_uid: str) -> None:
        try:
            done.finished.emit(build_view_inputs(store, series_uid))
        except Exception as exc:  # shown to the reader by the GUI thread (typed errors name the fix)
            done.failed.emit(exc)

    def start() -> None:
        vol = window.volume
        if vol is None:
            return
        threading.Thread(target=work, args=(vol.info.series_instance_uid,), daemon=True).start()

    def show(inputs: tuple) -> None:
        view = FollowupView(*inputs)
        window.add_dock(view, "Follow-up", Qt.DockWidgetArea.BottomDockWidgetArea)
        window.followup_view = view
        rows = inputs[2]
        window.findings_list.set_changes({r.key: r.change if r.status is PairStatus.MATCHED else r.status.value
                                          for r in rows if r.status is not PairStatus.RESOLVED})

    done.finished.connect(show)
    done.failed.connect(window.show_error)
    action.triggered.connect(lambda _checked=False: start())
    window.add_action("&Follow-up", action, "compare_prior", ("Ctrl+Shift+F",))
    return action


def build_view_inputs(store: Any, series_uid: str) -> tuple[Volume, Volume, list[FollowupRow], str]:
    """Compare (or reuse the stored comparison), load both scans and resample the prior. Runs off the GUI thread."""
    from inference.imaging import load
    from inference.longitudinal import Registration, RegistrationQuality, resample_prior
    from viewer.review.comparisons import compare_in_store, ensure_dates, latest_comparison
    from viewer.review.followup_export import followup_export
    from viewer.review.followup_rows import rows_of

    data = followup_export(store, series_uid)
    if data is None:
        ensure_dates(store, series_uid)
        compare_in_store(store, series_uid, actor="viewer")
        data = followup_export(store, series_uid)
    assert data is not None
    current = load(store.series_row(series_uid)["scan_path"])
    prior = load(store.series_row(data.prior_series_uid)["scan_path"])
    q = (latest_comparison(store, series_uid) or {})["registration"]  # the stored registration, not a new one
    reg = Registration(np.array(q["current_to_prior"], float),
                       RegistrationQuality(q["lung_dice"], q["lung_dice_start"], q["lung_overlap"], q["metric"],
                                           tuple(q["stages"])), float(q["seconds"]))
    header = (f"Exam Lung-RADS {data.exam_lung_rads}, {data.exam_reason}. "
              f"Registration: lung Dice {reg.quality.lung_dice:.2f}.")
    return current, resample_prior(prior, current, reg), rows_of(data, reg.to_current), header
