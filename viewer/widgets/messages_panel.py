"""The messages panel: every warning from the loader, the worker and the review, newest last."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from viewer.messages import Level, Message, MessageLog
from viewer.widgets.plain_text import plain_tip

LEVEL_COLOUR = {Level.INFO: QColor(200, 200, 200), Level.WARNING: QColor(255, 200, 80),
                Level.ERROR: QColor(255, 110, 110)}


class MessagesPanel(QListWidget):
    def __init__(self, log: MessageLog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        for m in log.messages:
            self.add(m)
        log.subscribe(self.add)

    def add(self, message: Message) -> None:
        item = QListWidgetItem(message.line())  # plain text: list items are never rich text
        item.setForeground(LEVEL_COLOUR[message.level])
        item.setToolTip(plain_tip(message.text))
        self.addItem(item)
        self.scrollToBottom()

    def lines(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]
