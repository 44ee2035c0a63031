"""Exports follow the real read state: VERIFIED only when signed off and every reported finding is
decided; a study read without AI says so (SR read back with pydicom and dciodvfy, PDF as text)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import warnings
from pathlib import Path

import pydicom
import pytest
from export_helpers import dciodvfy_errors

from viewer.export.exporter import ExportInputs, export_study
from viewer.export.sr import UnsignedExportWarning
from viewer.review.model import FindingStatus, ReadMode, ReviewedStudy


def _undecided(study: ReviewedStudy) -> ReviewedStudy:
    """The state a signed-off study has when a later detection added a finding nobody decided:
    f1 (score 0.93, above the 0.5 operating point) is pending again."""
    states = tuple(dataclasses.replace(fs, status=FindingStatus.PENDING, decided_by="", decided_at=None)
                   if fs.finding.finding_id == "f1" else fs for fs in study.findings)
    return dataclasses.replace(study, findings=states)


def _flags(path: Path) -> tuple[str, str, str]:
    ds = pydicom.dcmread(path)
    return ds.CompletionFlag, ds.PreliminaryFlag, ds.VerificationFlag


def _read_state(path: Path) -> str:
    """The READSTATE text of the SR's qualitative evaluations."""
    ds = pydicom.dcmread(path)
    found = []

    def walk(items) -> None:
        for item in items:
            name = item.ConceptNameCodeSequence[0] if "ConceptNameCodeSequence" in item else None
            if name is not None and name.CodeValue == "READSTATE" and name.CodingSchemeDesignator == "99NDLNS":
                found.append(item.TextValue)
            if "ContentSequence" in item:
                walk(item.ContentSequence)
    walk(ds.ContentSequence)
    assert len(found) == 1
    return found[0]


def _pdf_text(pdf: Path) -> str:
    exe = shutil.which("pdftotext")
    if exe is None:
        pytest.skip("pdftotext (Debian poppler-utils) is not installed; run scripts/setup.sh")
    done = subprocess.run([exe, str(pdf), "-"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


def test_signed_off_with_an_undecided_finding_is_partial_and_unverified(tmp_path, study, lidc1_volume) -> None:
    reopened = _undecided(study)
    inputs = ExportInputs(reopened, lidc1_volume)
    with pytest.warns(UnsignedExportWarning, match=r"signed off, but 1 finding\(s\) undecided \(f1\)"):
        sr = export_study(inputs, "sr", tmp_path / "sr").files[0]
    assert _flags(sr) == ("PARTIAL", "PRELIMINARY", "UNVERIFIED")
    assert "VerifyingObserverSequence" not in pydicom.dcmread(sr)
    assert _read_state(sr).startswith("PRELIMINARY: signed off, but 1 finding(s) undecided (f1)")
    assert dciodvfy_errors(sr) == []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnsignedExportWarning)
        pdf = next(p for p in export_study(inputs, "pdf", tmp_path / "pdf").files if p.suffix == ".pdf")
        doc = json.loads(export_study(inputs, "json", tmp_path / "j.json").files[0].read_text())
    text = _pdf_text(pdf)
    assert "PRELIMINARY — signed off, but 1 finding(s) are undecided (f1)." in text
    assert "Reviewed and signed off by" not in text
    assert doc["study"]["report_state"] == "preliminary" and doc["study"]["undecided_findings"] == ["f1"]
    assert doc["study"]["signed_off"] is True


def test_a_read_without_ai_is_final_and_says_so(tmp_path, study, lidc1_volume) -> None:
    without = dataclasses.replace(study, read_mode=ReadMode.WITHOUT_AI,
                                  read_without_ai_reason="AI worker down, <b>urgent</b> read")
    inputs = ExportInputs(without, lidc1_volume)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnsignedExportWarning)  # final: no warning
        sr = export_study(inputs, "sr", tmp_path / "sr").files[0]
        pdf = next(p for p in export_study(inputs, "pdf", tmp_path / "pdf").files if p.suffix == ".pdf")
        doc = json.loads(export_study(inputs, "json", tmp_path / "j.json").files[0].read_text())
    assert _flags(sr) == ("COMPLETE", "FINAL", "VERIFIED")
    assert _read_state(sr) == "FINAL: signed off; read WITHOUT AI (reason: AI worker down, <b>urgent</b> read)"
    assert dciodvfy_errors(sr) == []
    assert "read WITHOUT AI; reason: AI worker down, <b>urgent</b> read." in _pdf_text(pdf)
    assert doc["study"]["read_mode"] == "without AI" and doc["study"]["report_state"] == "final"
    assert doc["study"]["read_without_ai_reason"] == "AI worker down, <b>urgent</b> read"


def test_a_deidentified_export_keeps_the_read_without_ai_but_not_its_free_text(tmp_path, study, lidc1_volume) -> None:
    reason = "patient Jane Roe asked for an urgent read"
    without = dataclasses.replace(study, read_mode=ReadMode.WITHOUT_AI, read_without_ai_reason=reason)
    inputs = ExportInputs(without, lidc1_volume)
    sr_export = export_study(inputs, "sr", tmp_path / "sr", deidentify=True)
    pdf = next(p for p in export_study(inputs, "pdf", tmp_path / "pdf", deidentify=True).files if p.suffix == ".pdf")
    doc = json.loads(export_study(inputs, "json", tmp_path / "j.json", deidentify=True).files[0].read_text())
    sr = next(p for p in sr_export.files if p.suffix == ".dcm")
    assert _read_state(sr) == "FINAL: signed off; read WITHOUT AI (reason: free text removed by de-identification)"
    assert "read WITHOUT AI; reason: free text removed by de-identification." in _pdf_text(pdf)
    assert doc["study"]["read_mode"] == "without AI"
    assert doc["study"]["read_without_ai_reason"] == "free text removed by de-identification"
    assert reason not in json.dumps(doc) and "Jane" not in _pdf_text(pdf)
    assert "Jane" not in str(pydicom.dcmread(sr))
    assert any(e.path == "reason for the read without AI" and e.action == "D" for e in sr_export.deid_report.entries)
