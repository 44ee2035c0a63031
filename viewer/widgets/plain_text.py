"""Text from outside the program stays text: the one place the viewer makes labels, message boxes
and tooltips.

Qt renders a ``QLabel``'s or ``QMessageBox``'s text and every tooltip as rich text when
``Qt.mightBeRichText`` says it looks like HTML. A DICOM header value, a folder name or a reviewer
name such as ``<h1><font color=red>…`` or ``<img src=/path/file.png>`` would then be drawn as a
heading or load a local file. So:

- :class:`PlainLabel` / :func:`plain_label` — a ``QLabel`` whose format is ``Qt.PlainText``;
- :func:`plain_message_box` — a ``QMessageBox`` whose text, informative and detailed text are plain;
- :func:`plain_tip` — tooltip text that Qt shows literally (escaped when it could pass for HTML).

Item views (tables, lists, trees) draw their display text plain; their tooltips are rich, so a
model's ``ToolTipRole`` returns :func:`plain_tip` too. Status-bar messages and window titles are
drawn plain. ``tests/viewer/widgets/test_plain_text_gate.py`` fails when code in ``viewer/`` creates
a ``QLabel`` or ``QMessageBox`` itself, gives ``setToolTip`` anything but a literal or
:func:`plain_tip`, labels a form row with computed text, or turns rich text on.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget


class PlainLabel(QLabel):
    """A label that never interprets markup."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)


def plain_label(text: str = "", parent: QWidget | None = None, *, wrap: bool = False,
                selectable: bool = False) -> PlainLabel:
    label = PlainLabel(text, parent)
    label.setWordWrap(wrap)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def plain_tip(text: str) -> str:
    """``text`` as a tooltip shows it: unchanged when Qt would take it as plain text, otherwise
    escaped inside a pre-wrapped paragraph (so tags, entities and line breaks show literally)."""
    if not GuiQt.mightBeRichText(text):
        return text
    return f'<p style="white-space:pre-wrap">{html.escape(text, quote=False)}</p>'


def plain_message_box(icon: QMessageBox.Icon, title: str, text: str, parent: QWidget | None = None,
                      buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok) -> QMessageBox:
    """A message box that shows ``text`` literally. Outside text belongs in ``text`` only (the
    informative text has its own format; the detailed text is always plain)."""
    box = QMessageBox(icon, title, "", buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(text)
    return box


def rich_label(markup: str, parent: QWidget | None = None) -> QLabel:
    """A label for markup the program writes itself; every outside value in it must go through
    ``html.escape`` first (the review's key help is the one user)."""
    label = PlainLabel("", parent)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setText(markup)
    return label
