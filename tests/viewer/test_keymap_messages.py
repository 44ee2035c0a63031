"""The key map (defaults, the review's moved keys, settings overrides, conflicts) and the message log."""

from __future__ import annotations

from viewer.keymap import REVIEW_KEYS, WINDOW_KEYS, KeyMap, parse_keys
from viewer.messages import Level, MessageLog, Source
from viewer.review.settings import JsonBackend


def test_review_keys_move_the_window_keys_and_settings_win(tmp_path) -> None:
    km = KeyMap()
    assert km.keys("reset_3d") == ("R",) and km.keys("accept") == ()
    km.review = True
    assert km.keys("reset_3d") == ("Shift+R",) and km.keys("accept") == ("A",)
    backend = JsonBackend(tmp_path / "settings.json")
    backend.setValue("keys/accept", "Y")
    backend.setValue("keys/help", ["F1", " Shift+F1 "])
    backend.setValue("keys/comment", "")
    km = KeyMap.from_settings(backend.value)
    km.review = True
    assert km.keys("accept") == ("Y",) and km.keys("help") == ("F1", "Shift+F1")
    assert km.keys("comment") == () and km.keys("reject") == ("R",)


def test_defaults_have_no_conflicts_and_a_clash_is_reported() -> None:
    names = {*WINDOW_KEYS, *REVIEW_KEYS}
    km = KeyMap(review=True)
    assert km.conflicts(names) == {}
    assert KeyMap().conflicts(WINDOW_KEYS) == {}
    clash = KeyMap({"accept": ("E",)}, review=True)
    assert clash.conflicts(names) == {"e": ("accept", "edit")}
    km.add_defaults({"operating_point": ("O",)})
    assert km.keys("operating_point") == ("O",)
    assert parse_keys(None) is None and parse_keys("  Ctrl+K ") == ("Ctrl+K",)


def test_every_message_is_kept_in_order_and_heard() -> None:
    log = MessageLog()
    heard: list[str] = []
    log.subscribe(lambda m: heard.append(m.text))
    log.post(Source.LOADER, "padding replaced by -1024 HU", context="scan A")
    log.post(Source.LOADER, "2 localizer images excluded")
    log.post(Source.WORKER, "f3: not measured", Level.ERROR)
    assert [m.text for m in log.messages] == heard == ["padding replaced by -1024 HU", "2 localizer images excluded",
                                                       "f3: not measured"]
    assert log.count(Level.WARNING) == 2 and log.count() == 3
    assert "loader [scan A]: padding" in log.messages[0].line()
