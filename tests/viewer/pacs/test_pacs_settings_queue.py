"""PACS settings (nodes, our AE) and the store's send queue, without a network."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from viewer.pacs.config import PacsSettings
from viewer.pacs.errors import NodeConfigError, UnknownNode
from viewer.pacs.nodes import Auth, LocalAE, Node
from viewer.pacs.query import StudyQuery, priors_range
from viewer.review import pacs_queue, schema
from viewer.review.settings import JsonBackend
from viewer.review.store import Store


def test_nodes_round_trip_through_the_settings_file(tmp_path: Path) -> None:
    settings = PacsSettings(JsonBackend(tmp_path / "settings.json"))
    node = Node("main", ae_title="PACS1", host="127.0.0.1", port=104, web_url="https://pacs/dicom-web",
                auth=Auth.BEARER, secret="t0ken")
    settings.add_node(node)
    settings.save_local(LocalAE(ae_title="READER1", port=11113, allowed_callers=("CT1",)))
    cfg = PacsSettings(JsonBackend(tmp_path / "settings.json")).load()
    assert cfg.node("main") == node and cfg.local.ae_title == "READER1" and cfg.callers() == ("CT1",)
    assert cfg.local.bind == "127.0.0.1" and cfg.local.archive  # loopback and an archive by default
    assert (tmp_path / "settings.json").stat().st_mode & 0o777 == 0o600  # it holds the token
    with pytest.raises(UnknownNode, match="configured: main"):
        cfg.node("other")
    settings.remove_node("main")
    assert settings.load().nodes == ()


@pytest.mark.parametrize("kwargs, problem", [
    ({"ae_title": "A" * 17, "port": 104}, "AE title"),
    ({"ae_title": "PACS", "port": 70000}, "port"),
    ({}, "neither a DICOM port nor a DICOMweb URL"),
    ({"ae_title": "PACS", "port": 104, "tls_cert": "c.pem"}, "TLS"),
    ({"web_url": "ftp://x"}, "not http"),
    ({"web_url": "http://x", "auth": Auth.BASIC}, "without a secret"),
])
def test_bad_nodes_are_refused_with_the_fix(kwargs: dict, problem: str) -> None:
    with pytest.raises(NodeConfigError, match=problem):
        Node("n1", **kwargs)


def test_query_terms() -> None:
    assert priors_range("20240605", 5) == "20190605-20240604"
    assert priors_range("20240229", 1) == "20230228-20240228"
    with pytest.raises(Exception, match="date range"):
        StudyQuery(study_date="2024-01-01")
    assert StudyQuery(patient_id="P1", study_date="20200101-").qido_params() == {
        "PatientID": "P1", "StudyDate": "20200101-"}


def test_an_old_store_gains_the_pacs_tables_and_keeps_its_data(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    for statement in schema._statements(schema.MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("INSERT INTO studies VALUES ('1.2', 'P', '', '', '', 'now')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Store(db) as store:
        assert store.query("SELECT study_uid FROM studies") == [{"study_uid": "1.2"}]
        assert pacs_queue.items(store) == [] and pacs_queue.received(store) == []


def test_failed_sends_stay_queued_with_back_off(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        [seq] = pacs_queue.enqueue(store, "main", [("/x.dcm", "1.2.3", "sr")])
        pacs_queue.record_attempt(store, seq, False, "no answer")
        assert pacs_queue.due(store) == []  # not before the back-off
        later = datetime.now(timezone.utc) + timedelta(seconds=pacs_queue.BACKOFF_S + 1)
        [item] = pacs_queue.due(store, now=later)
        assert item.attempts == 1 and item.last_error == "no answer"
        pacs_queue.record_attempt(store, seq, True, "0x0000")
        assert pacs_queue.due(store, now=later + timedelta(days=1)) == []
        assert [i.state for i in pacs_queue.items(store)] == [pacs_queue.OutboxState.SENT]


def test_a_send_failing_for_days_is_abandoned_visibly_not_dropped(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        [seq] = pacs_queue.enqueue(store, "main", [("/x.dcm", "1.2.3", "seg")])
        for _ in range(pacs_queue.MAX_ATTEMPTS):
            pacs_queue.record_attempt(store, seq, False, "refused")
        [item] = pacs_queue.items(store)
        assert item.state is pacs_queue.OutboxState.ABANDONED and item.attempts == pacs_queue.MAX_ATTEMPTS
        assert pacs_queue.due(store, now=datetime(9999, 1, 1, tzinfo=timezone.utc)) == []
