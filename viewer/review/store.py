"""The review store: one SQLite file holding studies, findings, decisions and the audit log.

Every write is one ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction with ``synchronous=FULL``: when a
method returns, what it wrote is on disk. Decisions and audit rows are only ever appended; the
current state of a study is derived from them (:mod:`viewer.review.derive`).
Failures raise :class:`~viewer.review.errors.StoreWriteError` subclasses with nothing written.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from inference.domain.finding import Finding, FindingSource, ModelInfo
from inference.domain.analysis_codec import AnalysisFormatError
from inference.domain.nodule import LungRads
from viewer.review import codec, derive, read_models
from viewer.review.connection import open_store, write_error
from viewer.review.errors import ReviewError, StoreCorrupt, UnknownFinding, UnknownStudy
from viewer.review.model import AuditEntry, Decision, DecisionRecord, ReviewedStudy
from viewer.review.sign_off import REOPEN, SIGN_OFF, reopen_reason

T = TypeVar("T")
#: a check run first inside a write's transaction; it refuses the write by raising
Guard = Callable[[sqlite3.Connection], None]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(t: datetime) -> str:
    return t.astimezone(timezone.utc).isoformat(timespec="microseconds")


class Store:
    """``Store(path)`` opens or creates the store; ``path=None`` uses the configured location."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False) -> None:
        if path is None:
            from viewer.review.settings import default_store_path
            path = default_store_path()
        self.path = Path(path).expanduser().absolute()
        self._conn, self.read_only = open_store(self.path, read_only=read_only)
        self._lock = threading.RLock()
        #: what replaying the pending-actions journal beside the store did (one line per series)
        self.journal_notes: list[str] = []
        if not self.read_only:
            from viewer.review.journal import replay  # it drives a review session, which uses the store
            self.journal_notes = replay(self)

    # -- life cycle ----------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self, what: str, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` in one ``BEGIN IMMEDIATE`` … ``COMMIT``; ``what`` names the write in the
        typed error. The store's topic modules (timeline, comparisons, clinical inputs, PACS queue,
        screening runs, de-identification map) write their own tables through it."""
        with self._lock:
            if self.read_only:
                raise write_error(self.path, sqlite3.OperationalError("readonly store"), what)
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(self._conn)
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.IntegrityError as exc:
                raise ReviewError(self.path, f"{what} refused: {exc}", "This is a bug; report it") from exc
            except sqlite3.Error as exc:
                raise write_error(self.path, exc, what) from exc
            return result

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._conn.execute(sql, tuple(args))
            names = [c[0] for c in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def query(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        """Read-only SQL for the store's topic modules (timeline, comparisons, clinical inputs, PACS
        queue, screening runs, de-identification map): each keeps its own tables' queries."""
        return self._rows(sql, args)

    # -- studies and series --------------------------------------------------------------------
    def add_series(self, study_uid: str, series_uid: str, scan_path: str | Path, *, actor: str,
                   patient_id: str = "", patient_name: str = "", study_date: str = "",
                   description: str = "", n_slices: int = 0) -> None:
        """Register a series (and its study) once; later calls only update the scan path."""
        if not study_uid or not series_uid:
            raise ReviewError(scan_path, "has no Study/Series Instance UID",
                              "Only DICOM-like scans with UIDs can be stored")
        now, path = _iso(utcnow()), str(scan_path)

        def tx(c: sqlite3.Connection) -> None:
            c.execute("INSERT OR IGNORE INTO studies (study_uid, patient_id, patient_name, study_date, "
                      "description, created_at) VALUES (?,?,?,?,?,?)",
                      (study_uid, patient_id, patient_name, study_date, description, now))
            cur = c.execute("INSERT OR IGNORE INTO series (series_uid, study_uid, scan_path, "
                            "description, n_slices, created_at) VALUES (?,?,?,?,?,?)",
                            (series_uid, study_uid, path, description, n_slices, now))
            if cur.rowcount:
                self.append_audit(c, actor, "register", series_uid, detail={"scan_path": path})
            else:
                c.execute("UPDATE series SET scan_path=? WHERE series_uid=?", (path, series_uid))
        self.transaction("registering the series", tx)

    def series_row(self, uid_or_path: str | Path) -> dict:
        """The series row for a series UID, a study UID (its first series) or a scan path."""
        key = str(uid_or_path)
        for sql in ("SELECT * FROM series WHERE series_uid=?",
                    "SELECT * FROM series WHERE study_uid=? ORDER BY created_at",
                    "SELECT * FROM series WHERE scan_path=?"):
            rows = self._rows(sql, (key,))
            if rows:
                return rows[0]
        if Path(key).exists():  # a relative path, or a folder above one stored series
            resolved = str(Path(key).expanduser().resolve())
            rows = self._rows("SELECT * FROM series WHERE scan_path=? OR scan_path LIKE ? ESCAPE '\\'",
                              (resolved, _like_prefix(resolved)))
            if len(rows) == 1:
                return rows[0]
            if len(rows) > 1:
                raise UnknownStudy(key, f"holds {len(rows)} stored series",
                                   "Give the series folder or its Series Instance UID")
        raise UnknownStudy(key, "is not in the review store " + str(self.path),
                           "Screen or open the scan first")

    def series_uids(self) -> list[str]:
        return [r["series_uid"] for r in self._rows("SELECT series_uid FROM series ORDER BY created_at")]

    # -- screening results ---------------------------------------------------------------------
    def record_screening(self, series_uid: str, findings: list[Finding], model: ModelInfo | None,
                         *, flagged: bool, highest_lung_rads: LungRads | None, highest_risk: float | None,
                         saliency_paths: dict[str, str] | None = None, actor: str = "screening",
                         threshold: float | None = None, warnings: Iterable[str] = (),
                         guard: Guard | None = None) -> None:
        """Store AI findings and the screening summary of a series (replacing an earlier,
        never-reviewed screening), with the loader's and the worker's ``warnings`` about the scan.
        A signed-off study that gets findings at or above ``threshold`` (default: the model's
        operating point) is reopened in the same transaction (audited). ``guard(conn)`` runs first in
        the same transaction and may refuse the write by raising (a screener checks that it still
        holds the series' lease, :mod:`viewer.review.leases`)."""
        now, sal = _iso(utcnow()), saliency_paths or {}
        point = threshold if threshold is not None else (model.operating_threshold if model else None)
        presented = [f.finding_id for f in findings if point is None or f.score >= point]
        notes = json.dumps(list(dict.fromkeys(str(w) for w in warnings)))

        def tx(c: sqlite3.Connection) -> None:
            if guard is not None:
                guard(c)
            if c.execute("SELECT 1 FROM decisions WHERE series_uid=? LIMIT 1", (series_uid,)).fetchone():
                raise ReviewError(series_uid, "already has reviewer decisions",
                                  "A reviewed series is not re-screened")
            c.execute("DELETE FROM findings WHERE series_uid=? AND source='ai'", (series_uid,))
            for f in findings:
                c.execute("INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", (
                    series_uid, f.finding_id, f.source.value,
                    model.model_id if model else None, model.version if model else None,
                    model.manifest_sha256 if model else None, codec.geometry_json(f), f.score,
                    f.diameter_mm, codec.analysis_json(f.analysis), sal.get(f.finding_id), now, actor))
            c.execute("UPDATE series SET screen_state='screened', screen_error='', screened_at=?, "
                      "flagged=?, highest_lung_rads=?, highest_risk=?, highest_score=?, n_findings=?, "
                      "model_id=?, model_version=?, model_sha256=?, model_name=?, operating_threshold=?, "
                      "screen_warnings=? WHERE series_uid=?", (
                          now, int(flagged), highest_lung_rads.value if highest_lung_rads else None,
                          highest_risk,
                          max((f.score for f in findings), default=None), len(findings),
                          *(_model_cols(model)), notes, series_uid))
            self.append_audit(c, actor, "screen", series_uid, detail={
                "findings": len(findings), "flagged": flagged,
                "model": model.model_id if model else None, "warnings": json.loads(notes)})
            last = c.execute("SELECT action FROM audit WHERE series_uid=? AND action IN (?, ?) ORDER BY seq DESC "
                             "LIMIT 1", (series_uid, SIGN_OFF, REOPEN)).fetchone()
            if presented and last is not None and last[0] == SIGN_OFF:
                model_id = model.model_id if model else None
                self.append_audit(c, actor, REOPEN, series_uid, detail={
                    "reason": reopen_reason(len(presented), model_id), "automatic": True,
                    "new_findings": presented, "model": model_id})
        self.transaction("storing the screening result", tx)

    def record_screen_failure(self, series_uid: str, error: str, actor: str = "screening",
                              guard: Guard | None = None) -> None:
        """The series could not be screened: ``error`` (the typed error's text) is kept with it."""
        def tx(c: sqlite3.Connection) -> None:
            if guard is not None:
                guard(c)
            c.execute("UPDATE series SET screen_state='failed', screen_error=?, screened_at=?, "
                      "screen_warnings='[]' WHERE series_uid=?", (error, _iso(utcnow()), series_uid))
            self.append_audit(c, actor, "screen_failed", series_uid, detail={"error": error})
        self.transaction("recording the screening failure", tx)

    def screen_warnings(self, series_uid: str) -> tuple[str, ...]:
        """The warnings stored with the series' screening (the loader's repairs, the worker's notes)."""
        rows = self._rows("SELECT screen_warnings FROM series WHERE series_uid=?", (series_uid,))
        return read_models.warnings_of(rows[0]["screen_warnings"]) if rows else ()

    def is_screened(self, series_uid: str) -> bool:
        rows = self._rows("SELECT screen_state FROM series WHERE series_uid=?", (series_uid,))
        return bool(rows) and rows[0]["screen_state"] == "screened"

    # -- decisions -----------------------------------------------------------------------------
    def append_decision(self, series_uid: str, finding_id: str, decision: Decision, reviewer: str,
                        *, previous: dict, new: dict, reason: str | None = None, comment: str = "",
                        undoes: int | None = None, added: Finding | None = None,
                        at: datetime | None = None) -> DecisionRecord:
        """Append one decision (and its audit row; for ADDED also the new finding) atomically."""
        at = at or utcnow()
        rec = DecisionRecord(finding_id=finding_id, decision=decision, reviewer=reviewer, at=at,
                             reason=derive.parse_reason(reason), comment=comment,
                             series_instance_uid=series_uid, previous_value=json.dumps(previous),
                             new_value=json.dumps(new), undoes=undoes)

        def tx(c: sqlite3.Connection) -> int:
            if added is not None:
                c.execute("INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", (
                    series_uid, added.finding_id, FindingSource.REVIEWER.value, None, None, None,
                    codec.geometry_json(added), added.score, added.diameter_mm,
                    codec.analysis_json(added.analysis), None, _iso(at), reviewer))
            elif not c.execute("SELECT 1 FROM findings WHERE series_uid=? AND finding_id=?",
                               (series_uid, finding_id)).fetchone():
                raise UnknownFinding(finding_id, f"is not a finding of series {series_uid}",
                                     "Reload the study")
            cur = c.execute(
                "INSERT INTO decisions (series_uid, finding_id, decision, reviewer, at, reason, "
                "comment, previous_value, new_value, undoes) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (series_uid, finding_id, decision.value, reviewer, _iso(at), reason, comment,
                 rec.previous_value, rec.new_value, undoes))
            self.append_audit(c, reviewer, f"decision:{decision.value}", series_uid, finding_id,
                        {"seq": cur.lastrowid, "reason": reason, "undoes": undoes}, at=at)
            assert cur.lastrowid is not None  # an INSERT always sets it
            return int(cur.lastrowid)
        seq = self.transaction(f"saving the {decision.value} decision on {finding_id}", tx)
        return _replace_seq(rec, seq)

    def decisions(self, study_uid: str | Path) -> list[DecisionRecord]:
        """Every decision on the series (a series UID, its study UID or its scan path), in order."""
        uid = self.series_row(study_uid)["series_uid"]
        return [_decision(r) for r in self._rows(
            "SELECT * FROM decisions WHERE series_uid=? ORDER BY seq", (uid,))]

    def has_decision(self, series_uid: str, finding_id: str, decision: Decision, reviewer: str,
                     at: datetime) -> bool:
        """Whether this exact decision (same reviewer and time) is stored: journal replay's test."""
        return bool(self._rows("SELECT 1 FROM decisions WHERE series_uid=? AND finding_id=? AND decision=? "
                               "AND reviewer=? AND at=? LIMIT 1",
                               (series_uid, finding_id, decision.value, reviewer, _iso(at))))

    # -- audit ---------------------------------------------------------------------------------
    def log(self, action: str, actor: str, series_uid: str | None = None, finding_id: str | None = None,
            detail: dict | None = None, at: datetime | None = None) -> None:
        """Append an audit row (open, shown, sign_off, reopen, export, …) in its own transaction;
        ``at`` (UTC) for rows replayed from a log, else now."""
        self.transaction(f"logging '{action}'", lambda c: self.append_audit(c, actor, action, series_uid,
                                                                 finding_id, detail, at))

    def append_audit(self, c: sqlite3.Connection, actor: str, action: str, series_uid: str | None,
                     finding_id: str | None = None, detail: dict | None = None,
                     at: datetime | None = None) -> None:
        """Append an audit row inside a :meth:`transaction` (``c`` is its connection)."""
        study = None
        if series_uid:
            row = c.execute("SELECT study_uid FROM series WHERE series_uid=?", (series_uid,)).fetchone()
            study = row[0] if row else None
        c.execute("INSERT INTO audit (at, actor, action, study_uid, series_uid, finding_id, detail) "
                  "VALUES (?,?,?,?,?,?,?)", (_iso(at or utcnow()), actor, action, study, series_uid,
                                             finding_id, json.dumps(detail or {})))

    def audit_log(self, study_uid: str | Path) -> list[AuditEntry]:
        """The audit rows of a study (or of the study of a series UID / scan path), in order."""
        study = self.series_row(study_uid)["study_uid"]
        return [AuditEntry(seq=r["seq"], at=datetime.fromisoformat(r["at"]), actor=r["actor"],
                           action=r["action"], study_instance_uid=r["study_uid"] or "",
                           series_instance_uid=r["series_uid"] or "", finding_id=r["finding_id"] or "",
                           detail=r["detail"])
                for r in self._rows("SELECT * FROM audit WHERE study_uid=? ORDER BY seq", (study,))]

    # -- derived state -------------------------------------------------------------------------
    def stored_findings(self, series_uid: str) -> list[derive.StoredFinding]:
        rows = self._rows("SELECT * FROM findings WHERE series_uid=? ORDER BY rowid", (series_uid,))
        try:
            return [derive.StoredFinding(codec.make_finding(r["finding_id"], r["geometry"], r["score"],
                                                            r["source"], r["diameter_mm"], r["analysis"]),
                                         saliency_path=r["saliency_path"] or "", model_id=r["model_id"] or "",
                                         model_version=r["model_version"] or "",
                                         model_sha256=r["model_sha256"] or "")
                    for r in rows]
        except AnalysisFormatError as exc:
            raise StoreCorrupt(self.path, f"series {series_uid} holds a nodule analysis this version cannot "
                                          f"read ({exc})", "Open it with the NoduleLens that wrote it") from exc

    def reviewed_study(self, study_uid_or_scan_path: str | Path) -> ReviewedStudy:
        row = self.series_row(study_uid_or_scan_path)
        uid = row["series_uid"]
        return read_models.reviewed_study(row, self.decisions(uid), self.series_actions(uid),
                                    self.stored_findings(uid))

    def series_actions(self, series_uid: str) -> list[dict]:
        return self._rows("SELECT at, actor, action, finding_id, detail FROM audit "
                          "WHERE series_uid=? ORDER BY seq", (series_uid,))

    def worklist(self) -> list[read_models.WorklistRow]:
        """One row per stored series, flagged and most suspicious first (one query)."""
        return read_models.worklist(self._rows(_WORKLIST_SQL))

    def reader_study_log(self, uid_or_path: str | Path) -> list[read_models.ReaderStudyEntry]:
        study = self.reviewed_study(uid_or_path)
        return read_models.reader_study_log(study, self.decisions(study.series_instance_uid))


_WORKLIST_SQL = """
SELECT s.*, st.patient_id AS patient_id,
  (SELECT COUNT(*) FROM decisions d WHERE d.series_uid = s.series_uid) AS n_decisions,
  (SELECT d.reviewer FROM decisions d WHERE d.series_uid = s.series_uid ORDER BY d.seq DESC LIMIT 1)
    AS last_reviewer,
  EXISTS (SELECT 1 FROM audit a WHERE a.series_uid = s.series_uid AND a.action = 'open') AS opened,
  (SELECT a.action FROM audit a WHERE a.series_uid = s.series_uid AND a.action IN ('sign_off', 'reopen')
    ORDER BY a.seq DESC LIMIT 1) AS last_sign,
  (SELECT a.actor FROM audit a WHERE a.series_uid = s.series_uid AND a.action IN ('sign_off', 'reopen')
    ORDER BY a.seq DESC LIMIT 1) AS last_sign_actor
FROM series s JOIN studies st ON st.study_uid = s.study_uid
"""



def _like_prefix(folder: str) -> str:
    escaped = folder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.rstrip("/") + "/%"


def _model_cols(model: ModelInfo | None) -> tuple:
    if model is None:
        return (None,) * 5
    return (model.model_id, model.version, model.manifest_sha256, model.name, model.operating_threshold)


def _decision(r: dict) -> DecisionRecord:
    return DecisionRecord(finding_id=r["finding_id"], decision=Decision(r["decision"]),
                          reviewer=r["reviewer"], at=datetime.fromisoformat(r["at"]),
                          reason=derive.parse_reason(r["reason"]), comment=r["comment"], seq=r["seq"],
                          series_instance_uid=r["series_uid"], previous_value=r["previous_value"],
                          new_value=r["new_value"], undoes=r["undoes"])


def _replace_seq(rec: DecisionRecord, seq: int) -> DecisionRecord:
    from dataclasses import replace
    return replace(rec, seq=seq)
