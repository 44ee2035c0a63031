"""Exports of a follow-up exam: a phantom follow-up pair (two DICOM studies of one patient) screened
into a real SQLite store, compared, reviewed, and exported from the store as SR and JSON (and the
prior exam as JSON). The SR carries the prior sizes and the comparison-based categories, validates
with dciodvfy and is read by dcmqi's tid1500reader; a matched nodule keeps the prior exam's tracking
UID."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from inference.phantom.followup import make_followup_phantom, write_followup
from viewer.export import codes as nl
from viewer.export.from_store import export_from_store
from viewer.review.comparisons import link_screened
from viewer.review.session import ReviewSession

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_helpers import dciodvfy_errors  # noqa: E402  (test helper beside this file)

FIXED = [nl.LONG_AXIS.value, nl.SHORT_AXIS.value, nl.MEAN_DIAMETER.value, nl.VOLUME.value]


@pytest.fixture(scope="module")
def exported(tmp_path_factory, screen_followup_pair) -> dict:
    root = tmp_path_factory.mktemp("fu_export")
    pair = make_followup_phantom(5, interval_days=365)
    paths = write_followup(pair, root / "dicom")
    store, uids = screen_followup_pair(root / "review.sqlite", pair, paths)
    link_screened(store, [uids["current"]], lambda _m: None, "screening")
    for uid in uids.values():  # the reader accepts every finding of both exams
        session = ReviewSession(store, uid, "Dr Ada Reader")
        for state in session.findings:
            session.accept(state.finding.finding_id)
    out = {"uids": uids}
    out["sr_files"], out["sr_notes"] = export_from_store(store, uids["current"], "sr", root / "sr")
    out["json"] = json.loads(export_from_store(store, uids["current"], "json", root / "cur.json")[0]
                             .files[0].read_text())
    out["prior_json"] = json.loads(export_from_store(store, uids["prior"], "json", root / "prior.json")[0]
                                   .files[0].read_text())
    out["deid_json"] = json.loads(next(p for p in export_from_store(
        store, uids["current"], "json", root / "deid" / "cur.json", deidentify=True)[0].files
        if p.name == "cur.json").read_text())
    out["deid_sr"] = next(p for p in export_from_store(
        store, uids["current"], "sr", root / "deid_sr", deidentify=True)[0].files if p.name == "sr.dcm")
    out["pdf"] = export_from_store(store, uids["current"], "pdf", root / "pdf")[0].files
    out["root"], out["current_dir"] = root, paths["current"]
    store.close()
    return out


def _sr(exported) -> Path:
    return next(p for p in exported["sr_files"].files if p.stem == "sr")


def _report(doc: dict) -> dict[str, dict]:
    return {n["finding_id"]: n for n in doc["report"]["nodules"]}


def test_json_carries_each_nodules_comparison_and_the_resolved_one(exported) -> None:
    report = exported["json"]["report"]
    nodules = _report(exported["json"])
    assert sorted(nodules) == ["T1-grow", "T2-grow", "T3-stable", "T5-new"]
    grown = nodules["T1-grow"]["comparison"]
    assert grown["status"] == "matched" and grown["category"] == "growing"
    assert grown["prior_study_date"] == "20240302" and grown["interval_days"] == 365
    assert grown["prior_mean_diameter_mm"] > 0 and grown["change_mm"] > 1.5 and grown["volume_doubling_days"] > 0
    assert "2024-03-02" in grown["reason"] and grown["lung_rads"] == nodules["T1-grow"]["lung_rads"]
    assert nodules["T3-stable"]["comparison"]["category"] == "stable"
    new = nodules["T5-new"]["comparison"]
    assert new["category"] == "new" and new["prior_mean_diameter_mm"] is None
    assert report["comparison"]["prior_study_date"] == "2024-03-02"
    assert [r["prior_finding"] for r in report["comparison"]["resolved"]] == ["T4-resolved"]
    # the exam's category is the comparison's, from its most suspicious reported nodule
    assert report["exam_lung_rads"] == "4B" and "2024-03-02" in report["exam_lung_rads_reason"]


def test_follow_up_json_fits_the_export_schema(exported) -> None:
    from test_export_tables import SCHEMA_FILE, _check_schema

    for doc in (exported["json"], exported["deid_json"], exported["prior_json"]):
        _check_schema(doc, json.loads(SCHEMA_FILE.read_text()))


def test_matched_nodule_keeps_the_prior_exams_tracking_uid(exported) -> None:
    prior, current = _report(exported["prior_json"]), _report(exported["json"])
    for key in ("T1-grow", "T2-grow", "T3-stable"):
        assert current[key]["tracking_uid"] == prior[key]["tracking_uid"]
    assert current["T5-new"]["tracking_uid"] not in {n["tracking_uid"] for n in prior.values()}
    assert exported["prior_json"]["report"]["comparison"] is None  # the baseline exam
    findings = {f["id"]: f["tracking_uid"] for f in exported["json"]["findings"]}
    assert findings["T1-grow"] == current["T1-grow"]["tracking_uid"]


def test_deidentified_json_keeps_intervals_but_no_prior_dates(exported) -> None:
    doc = exported["deid_json"]
    text = json.dumps(doc["report"])
    assert "2024-03-02" not in text and "20240302" not in text
    grown = _report(doc)["T1-grow"]["comparison"]
    assert grown["interval_days"] == 365 and grown["volume_doubling_days"] > 0
    assert doc["report"]["comparison"]["prior_study_uid"] != exported["json"]["report"]["comparison"][
        "prior_study_uid"]


def _items(ds: pydicom.Dataset, out: dict) -> dict:
    for item in getattr(ds, "ContentSequence", []):
        name = item.ConceptNameCodeSequence[0].CodeValue
        if item.ValueType == "NUM" and item.get("MeasuredValueSequence"):
            out.setdefault(name, float(item.MeasuredValueSequence[0].NumericValue))
        elif item.ValueType == "CODE":
            out.setdefault(name, item.ConceptCodeSequence[0].CodeValue)
        elif item.ValueType == "TEXT":
            out.setdefault(name, str(item.TextValue))
    return out


def test_sr_validates_and_carries_prior_sizes_and_comparison_categories(exported) -> None:
    path = _sr(exported)
    assert dciodvfy_errors(path) == []
    sr = pydicom.dcmread(path)
    report = _report(exported["json"])
    groups = {}
    for container in sr.ContentSequence:
        for g in getattr(container, "ContentSequence", []):
            if g.ValueType == "CONTAINER" and g.ConceptNameCodeSequence[0].CodeValue == "125007":
                uid = next(str(i.UID) for i in g.ContentSequence if i.ValueType == "UIDREF")
                groups[uid] = _items(g, {})
    assert len(groups) == 4
    for fid, nodule in report.items():
        got = groups[nodule["tracking_uid"]]
        c = nodule["comparison"]
        assert got["LUNGRADS"] == f"LR{c['lung_rads']}"
        if c["status"] == "matched":
            assert got["PRIORDIAM"] == pytest.approx(c["prior_mean_diameter_mm"], abs=0.051)
            assert got["PRIORINT"] == 365 and got["DIAMCHG"] == pytest.approx(c["change_mm"], abs=0.051)
        else:
            assert "PRIORDIAM" not in got and got["COMPARE"] == "NEW", fid
    assert groups[report["T1-grow"]["tracking_uid"]]["COMPARE"] == "GROWING"
    assert groups[report["T1-grow"]["tracking_uid"]]["VDT"] == round(report["T1-grow"]["comparison"][
        "volume_doubling_days"])
    exam = _items(next(i for i in sr.ContentSequence if i.ConceptNameCodeSequence[0].CodeValue == "C0034375"), {})
    assert exam["LUNGRADS"] == "LR4B" and "2024-03-02" in exam["COMPARE"] and "T4-resolved" in exam["COMPARE"]


def test_deidentified_sr_keeps_the_comparison_but_not_the_prior_date(exported) -> None:
    path = exported["deid_sr"]
    assert dciodvfy_errors(path) == []
    assert b"2024-03-02" not in path.read_bytes() and b"20240302" not in path.read_bytes()
    groups = [g for g in pydicom.dcmread(path).ContentSequence if g.ValueType == "CONTAINER"]
    values = {}
    for g in groups:
        for item in getattr(g, "ContentSequence", []):
            _items(item, values)
    assert values["PRIORINT"] == 365 and "VDT" in values


def test_tid1500reader_reads_the_followup_sr_with_the_fixed_list_first(exported) -> None:
    exe = shutil.which("tid1500reader") or ".venv/bin/tid1500reader"
    if not Path(exe).exists():
        pytest.skip("tid1500reader (dcmqi) is not installed; run scripts/setup.sh")
    target = exported["root"] / "tid1500.json"
    done = subprocess.run([exe, "--inputDICOM", str(_sr(exported)), "--outputMetadata", str(target)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    meta = json.loads(target.read_text())
    report = _report(exported["json"])
    by_uid = {g["TrackingUniqueIdentifier"]: g for g in meta["Measurements"]}
    assert set(by_uid) == {n["tracking_uid"] for n in report.values()}
    for nodule in report.values():
        codes = [i["quantity"]["CodeValue"] for i in by_uid[nodule["tracking_uid"]]["measurementItems"]]
        assert codes[:len(FIXED)] == FIXED  # Slicer's columns of the fixed list stay in place
    grown = by_uid[report["T1-grow"]["tracking_uid"]]
    values = {i["quantity"]["CodeValue"]: float(i["value"]) for i in grown["measurementItems"]}
    assert values["PRIORDIAM"] == pytest.approx(report["T1-grow"]["comparison"]["prior_mean_diameter_mm"], abs=0.051)


def test_pdf_report_shows_the_comparison(exported) -> None:
    pdf = next(p for p in exported["pdf"] if p.suffix == ".pdf")
    exe = shutil.which("pdftotext")
    if exe is None or shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftotext, pdftoppm) is not installed; run scripts/setup.sh")
    text = subprocess.run([exe, "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout
    assert "Comparison with the prior CT" in text and "prior of 2024-03-02" in text
    assert "T4-resolved" in text and "doubling time" in text
    grown = _report(exported["json"])["T1-grow"]["comparison"]
    assert f"{grown['volume_doubling_days']:.0f} days" in text
    pages = subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(exported["root"] / "page")],
                           capture_output=True, timeout=120)
    assert pages.returncode == 0 and list(exported["root"].glob("page*.png"))


def test_ohif_adapter_restores_each_nodule_under_its_tracking_uid_over_time(exported) -> None:
    js = Path(__file__).resolve().parents[2] / "js"
    node = shutil.which("node")
    if node is None or not (js / "node_modules" / "@cornerstonejs" / "adapters").is_dir():
        pytest.skip("node or tests/js/node_modules is missing: run scripts/setup.sh")
    done = subprocess.run([node, str(js / "ohif_readers.mjs"), "sr", str(_sr(exported)), str(exported["current_dir"])],
                          capture_output=True, text=True, timeout=300, cwd=js)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])["measurements"]
    report = _report(exported["json"])
    assert sorted(m["trackingUid"] for m in got) == sorted(n["tracking_uid"] for n in report.values())
    assert all(m["toolType"] == "Bidirectional" for m in got)
