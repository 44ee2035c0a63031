"""The store's schema and its migrations, versioned with ``PRAGMA user_version``.

Migration *n* takes a database at version *n - 1* to version *n*. They run inside one
``BEGIN IMMEDIATE`` transaction, so a crash half-way leaves the old version intact.
Decisions and audit rows are append-only: triggers refuse UPDATE and DELETE on them.
"""

from __future__ import annotations

import sqlite3

from viewer.review import codec

_V1 = """
CREATE TABLE studies (
    study_uid       TEXT PRIMARY KEY,
    patient_id      TEXT NOT NULL DEFAULT '',
    patient_name    TEXT NOT NULL DEFAULT '',
    study_date      TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);
CREATE TABLE series (
    series_uid          TEXT PRIMARY KEY,
    study_uid           TEXT NOT NULL REFERENCES studies(study_uid),
    scan_path           TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    n_slices            INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    screen_state        TEXT NOT NULL DEFAULT 'not screened',
    screen_error        TEXT NOT NULL DEFAULT '',
    screened_at         TEXT,
    flagged             INTEGER NOT NULL DEFAULT 0,
    highest_lung_rads   TEXT,
    highest_risk        REAL,
    highest_score       REAL,
    n_findings          INTEGER NOT NULL DEFAULT 0,
    model_id            TEXT,
    model_version       TEXT,
    model_sha256        TEXT,
    model_name          TEXT,
    operating_threshold REAL
);
CREATE INDEX series_by_path ON series(scan_path);
CREATE INDEX series_by_study ON series(study_uid);
CREATE TABLE findings (
    series_uid      TEXT NOT NULL REFERENCES series(series_uid),
    finding_id      TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('ai', 'reviewer')),
    model_id        TEXT,
    model_version   TEXT,
    model_sha256    TEXT,
    geometry        TEXT NOT NULL,
    score           REAL NOT NULL,
    diameter_mm     REAL,
    analysis        TEXT,
    saliency_path   TEXT,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    PRIMARY KEY (series_uid, finding_id)
);
CREATE TABLE decisions (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    series_uid      TEXT NOT NULL REFERENCES series(series_uid),
    finding_id      TEXT NOT NULL,
    decision        TEXT NOT NULL,
    reviewer        TEXT NOT NULL,
    at              TEXT NOT NULL,
    reason          TEXT,
    comment         TEXT NOT NULL DEFAULT '',
    previous_value  TEXT NOT NULL,
    new_value       TEXT NOT NULL,
    undoes          INTEGER REFERENCES decisions(seq)
);
CREATE INDEX decisions_by_series ON decisions(series_uid, seq);
CREATE TABLE audit (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    study_uid       TEXT,
    series_uid      TEXT,
    finding_id      TEXT,
    detail          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_series ON audit(series_uid, seq);
CREATE INDEX audit_by_study ON audit(study_uid, seq);
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
    BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
    BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

#: Nodule analyses stored before this version named Python classes (``{"__type__":
#: "inference.domain.nodule:NoduleAnalysis", ...}``); rewrite them in the versioned form of
#: :mod:`inference.domain.analysis_codec`. Text the codec cannot read stays as it was. Decision rows
#: are append-only and keep what they recorded; the same codec reads their legacy form.
_V_CODEC = """
UPDATE findings SET analysis = nodulelens_upgrade_analysis(analysis) WHERE analysis IS NOT NULL;
"""

#: Patient / reader inputs of the risk model, one appended row per change (the latest holds).
_V_CLINICAL = """
CREATE TABLE clinical_inputs (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    series_uid      TEXT NOT NULL REFERENCES series(series_uid),
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    inputs          TEXT NOT NULL
);
CREATE INDEX clinical_inputs_by_series ON clinical_inputs(series_uid, seq);
CREATE TRIGGER clinical_inputs_no_update BEFORE UPDATE ON clinical_inputs
    BEGIN SELECT RAISE(ABORT, 'clinical inputs are append-only'); END;
CREATE TRIGGER clinical_inputs_no_delete BEFORE DELETE ON clinical_inputs
    BEGIN SELECT RAISE(ABORT, 'clinical inputs are append-only'); END;
"""

#: PACS: objects queued for sending (kept until sent; retried after a restart) and the series
#: received by the listener or pulled from a node (the worklist's "received" source).
_V_PACS = """
CREATE TABLE pacs_outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    node            TEXT NOT NULL,
    file_path       TEXT NOT NULL,
    sop_uid         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    series_uid      TEXT,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'abandoned')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    next_try_at     TEXT NOT NULL
);
CREATE INDEX pacs_outbox_due ON pacs_outbox(state, next_try_at);
CREATE TABLE pacs_received (
    series_uid      TEXT PRIMARY KEY,
    study_uid       TEXT NOT NULL,
    patient_id      TEXT NOT NULL DEFAULT '',
    source          TEXT NOT NULL,
    origin          TEXT NOT NULL DEFAULT '',
    folder          TEXT NOT NULL,
    n_instances     INTEGER NOT NULL DEFAULT 0,
    received_at     TEXT NOT NULL
);
"""

#: Screening runs: where each series was screened (device, node, seconds, run) and one row per
#: run with its progress figures (kept up to date while results arrive; see viewer.review.screen_runs).
_V_SCREEN_RUN = """
ALTER TABLE series ADD COLUMN screen_device TEXT;
ALTER TABLE series ADD COLUMN screen_node TEXT;
ALTER TABLE series ADD COLUMN screen_seconds REAL;
ALTER TABLE series ADD COLUMN screen_run INTEGER;
CREATE TABLE screen_runs (
    run_id          INTEGER PRIMARY KEY AUTOINCREMENT,
    root            TEXT NOT NULL,
    engine          TEXT NOT NULL,
    workers         INTEGER NOT NULL DEFAULT 1,
    total           INTEGER NOT NULL DEFAULT 0,
    done            INTEGER NOT NULL DEFAULT 0,
    failed          INTEGER NOT NULL DEFAULT 0,
    skipped         INTEGER NOT NULL DEFAULT 0,
    per_minute      REAL,
    eta_seconds     REAL,
    state           TEXT NOT NULL DEFAULT 'running',
    started_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    finished_at     TEXT
);
"""

#: de-identification: one persistent UID map per study, so every de-identified export of a study
#: (SR, SEG, maps, PDF, key images, the CT) uses the same replacement UIDs (viewer/review/deid_map.py)
_V_DEID_MAP = """
CREATE TABLE deid_uid_map (
    study_uid   TEXT NOT NULL,
    old_uid     TEXT NOT NULL,
    new_uid     TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (study_uid, old_uid)
);
"""

#: the patient timeline (study time, issuer of the patient id), the reader's choice of prior, stored
#: follow-up comparisons and the reader's re-pair / un-pair decisions (append-only, undone by RESET rows)
_V_TIMELINE = """
ALTER TABLE studies ADD COLUMN study_time TEXT NOT NULL DEFAULT '';
ALTER TABLE studies ADD COLUMN issuer_of_patient_id TEXT NOT NULL DEFAULT '';
CREATE INDEX studies_by_patient ON studies(patient_id, issuer_of_patient_id, study_date, study_time);
CREATE TABLE prior_choices (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    series_uid      TEXT NOT NULL REFERENCES series(series_uid),
    prior_series_uid TEXT REFERENCES series(series_uid),
    reviewer        TEXT NOT NULL,
    at              TEXT NOT NULL
);
CREATE TABLE comparisons (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    series_uid      TEXT NOT NULL REFERENCES series(series_uid),
    prior_series_uid TEXT NOT NULL REFERENCES series(series_uid),
    exam_lung_rads  TEXT NOT NULL,
    result          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL
);
CREATE INDEX comparisons_by_series ON comparisons(series_uid, seq);
CREATE TABLE pairings (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    series_uid      TEXT NOT NULL REFERENCES series(series_uid),
    prior_series_uid TEXT NOT NULL REFERENCES series(series_uid),
    finding_id      TEXT NOT NULL,
    prior_finding_id TEXT,
    action          TEXT NOT NULL CHECK (action IN ('pair', 'unpair', 'reset')),
    reviewer        TEXT NOT NULL,
    at              TEXT NOT NULL,
    undoes          INTEGER REFERENCES pairings(seq)
);
CREATE INDEX pairings_by_series ON pairings(series_uid, seq);
CREATE TRIGGER prior_choices_no_update BEFORE UPDATE ON prior_choices
    BEGIN SELECT RAISE(ABORT, 'prior choices are append-only'); END;
CREATE TRIGGER pairings_no_update BEFORE UPDATE ON pairings
    BEGIN SELECT RAISE(ABORT, 'pairing decisions are append-only'); END;
CREATE TRIGGER pairings_no_delete BEFORE DELETE ON pairings
    BEGIN SELECT RAISE(ABORT, 'pairing decisions are append-only'); END;
"""

#: batch safety: the loader's warnings stored with each screened series (a JSON list of strings), and
#: one lease per series being screened, so that concurrent screeners (two ``nodulelens screen`` runs,
#: the Ray driver) share the work: a holder (host:pid:run) keeps it while it renews the expiry (unix
#: seconds); an expired lease is taken over (viewer/review/leases.py)
_V_SCREEN_LEASES = """
ALTER TABLE series ADD COLUMN screen_warnings TEXT NOT NULL DEFAULT '[]';
CREATE TABLE series_leases (
    series_uid      TEXT PRIMARY KEY,
    holder          TEXT NOT NULL,
    acquired_at     TEXT NOT NULL,
    expires_at      REAL NOT NULL
);
"""

#: MIGRATIONS[n - 1] brings the schema from version n - 1 to n.
MIGRATIONS: tuple[str, ...] = (_V1, _V_CODEC, _V_CLINICAL, _V_PACS, _V_SCREEN_RUN, _V_DEID_MAP, _V_TIMELINE,
                              _V_SCREEN_LEASES)
SCHEMA_VERSION = len(MIGRATIONS)

#: tables every version >= 1 has; used to tell a foreign SQLite file from ours.
REQUIRED_TABLES = frozenset({"studies", "series", "findings", "decisions", "audit"})


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the missing migrations in one immediate transaction; returns the new version.

    The caller has checked that the version is not newer than :data:`SCHEMA_VERSION`.
    """
    conn.create_function("nodulelens_upgrade_analysis", 1, codec.upgrade_analysis_json, deterministic=True)
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = user_version(conn)  # re-read under the write lock: another instance may have won
        for n in range(current + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS[n - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {n}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (triggers keep their inner ';')."""
    out: list[str] = []
    buf = ""
    for line in script.strip().splitlines():
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete statement in migration: {buf!r}")
    return out
