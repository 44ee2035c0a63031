"""What Qt puts on screen for a piece of text, for the tests that check outside text stays literal."""

from __future__ import annotations

from PySide6.QtGui import QTextDocument
from PySide6.QtGui import Qt as GuiQt


def tip_text(tip: str) -> str:
    """What a tooltip shows as text (Qt's rule: rich text when it might be rich text)."""
    doc = QTextDocument()
    if GuiQt.mightBeRichText(tip):
        doc.setHtml(tip)
    else:
        doc.setPlainText(tip)
    return doc.toPlainText()
