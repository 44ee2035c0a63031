"""The Lung-RADS PDF report, its Encapsulated PDF and the Secondary Capture key images of the
reviewed LIDC-IDRI-0001 study; and the report of a study without nodules."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from export_helpers import dciodvfy_errors

from viewer.export.errors import ExportError
from viewer.export.exporter import ExportInputs, export_study
from viewer.review.model import FindingStatus


def _poppler(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        pytest.skip(f"{name} (Debian poppler-utils) is not installed; run scripts/setup.sh")
    return exe


@pytest.fixture(scope="module")
def report(tmp_path_factory, study, lidc1_volume, masks, saliency) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("report")
    inputs = ExportInputs(study, lidc1_volume, masks, saliency)
    files = {p.name: p for p in export_study(inputs, "pdf", root / "pdf").files}
    files.update({p.name: p for p in export_study(inputs, "sc", root / "sc").files})
    files["root"] = root
    return files


def _text(pdf: Path) -> str:
    done = subprocess.run([_poppler("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _render(pdf: Path, out: Path) -> list[Path]:
    done = subprocess.run([_poppler("pdftoppm"), "-r", "60", "-png", str(pdf), str(out / "page")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return sorted(out.glob("page*.png"))


def test_pdftoppm_renders_every_page(report) -> None:
    info = subprocess.run([_poppler("pdfinfo"), str(report["report.pdf"])], capture_output=True, text=True,
                          timeout=60).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    assert 1 <= pages <= 2
    rendered = _render(report["report.pdf"], report["root"])
    assert len(rendered) == pages
    from matplotlib.image import imread

    for png in rendered:
        pixels = imread(png)
        assert pixels.std() > 0.05  # text and images, not a blank page


def test_report_says_what_the_sr_says(report) -> None:
    text = " ".join(_text(report["report.pdf"]).split())
    assert "Exam category: Lung-RADS 4B" in text
    assert "2 nodule(s) reported; 2 AI finding(s) reviewed, 1 rejected by the reviewer" in text
    assert "f1 (AI)" in text and "(reviewer)" in text
    assert "23.4 × 18.7" in text and "6.5 × 5.2" in text  # long × short axis
    assert "42.0 %" in text and "0.93" in text  # risk and AI score
    assert "Reviewed and signed off by Jane Doe on 2026-11-24 10:30 UTC" in text  # display name
    assert "none (no prior exam compared)" in text
    assert "LIDC-IDRI-0001" in text  # patient block from the source CT
    assert "NoduleLens detector (nodule-det-small 1.2.0)" in text


def test_encapsulated_pdf_validates_and_holds_the_report(report, lidc1_volume) -> None:
    path = report["report.dcm"]
    assert dciodvfy_errors(path) == []
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.104.1"
    assert ds.MIMETypeOfEncapsulatedDocument == "application/pdf"
    pdf = report["report.pdf"].read_bytes()
    assert ds.EncapsulatedDocument[:ds.EncapsulatedDocumentLength] == pdf
    assert ds.StudyInstanceUID == lidc1_volume.info.study_instance_uid  # in the study
    assert ds.SeriesInstanceUID != lidc1_volume.info.series_instance_uid


def test_key_images_are_valid_secondary_captures_of_the_key_slices(report, study, lidc1_volume, masks) -> None:
    from viewer.export.plan import build_plan

    keys = sorted(n for n in report if n.startswith("key_"))
    assert keys == ["key_1.dcm", "key_2.dcm"]
    for name in keys:
        assert dciodvfy_errors(report[name]) == [], name
    ds = pydicom.dcmread(report["key_1.dcm"])
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture Image Storage
    assert ds.StudyInstanceUID == lidc1_volume.info.study_instance_uid
    assert ds.PhotometricInterpretation == "RGB" and ds.BurnedInAnnotation == "YES"
    rgb = ds.pixel_array
    assert rgb.shape[2] == 3
    # the nodule is at the image centre: its box (the first segment colour) is drawn around it
    orange = np.all(np.abs(rgb.astype(int) - [230, 159, 0]) < 40, axis=-1)
    ys, xs = np.nonzero(orange[40:])  # below the "Nodule 1" label
    assert len(ys) > 100
    assert abs(np.median(xs) - rgb.shape[1] / 2) < rgb.shape[1] * 0.1
    key_z = build_plan(study, lidc1_volume, masks).nodules[0].key.z
    assert ds.SourceImageSequence[0].ReferencedSOPInstanceUID == lidc1_volume.info.sop_instance_uids[key_z]


def test_a_study_without_nodules_gets_a_report_that_says_so_and_no_key_images(
        tmp_path, study, lidc1_volume) -> None:
    no_nodule = dataclasses.replace(study, findings=tuple(
        dataclasses.replace(s, status=FindingStatus.REJECTED) if s.finding.source.value == "ai" else s
        for s in study.findings if s.finding.source.value == "ai"))
    result = export_study(ExportInputs(no_nodule, lidc1_volume), "pdf", tmp_path / "pdf")
    assert "no lung nodule is reported" in result.warnings[0]
    text = " ".join(_text(tmp_path / "pdf" / "report.pdf").split())
    assert "No lung nodule reported. 2 AI finding(s) reviewed, 2 rejected by the reviewer" in text
    assert "Exam category: Lung-RADS 1" in text
    assert dciodvfy_errors(tmp_path / "pdf" / "report.dcm") == []
    with pytest.raises(ExportError, match="no reported nodule"):
        export_study(ExportInputs(no_nodule, lidc1_volume), "sc", tmp_path / "sc")


def test_the_report_quotes_the_installed_model_card(tmp_path, study, lidc1_volume, masks) -> None:
    from inference.domain.finding import ModelInfo
    from inference.detection.registry import load_manifest

    card = load_manifest("classical").evaluation[0]
    classical = dataclasses.replace(study, model=ModelInfo("classical", "1.0", "cd" * 32, "Classical baseline", 0.5))
    export_study(ExportInputs(classical, lidc1_volume, masks), "pdf", tmp_path / "pdf")
    text = " ".join(_text(tmp_path / "pdf" / "report.pdf").split())
    assert f"CPM {card['cpm']}" in text
    assert f"sensitivity {card['sensitivity_at_operating_point']} at {card['fps_per_scan_at_operating_point']}" in text
    assert "Intended use: research; not for diagnosis" in text


def test_key_image_captions_name_the_method_of_the_map_drawn(report) -> None:
    """The maps of this study were made by occlusion: the AI finding's key image (SC comment and
    PDF caption) says so; the reviewer's nodule has no map and claims none."""
    ai, added = (str(pydicom.dcmread(report[n], stop_before_pixels=True).ImageComments)
                 for n in ("key_1.dcm", "key_2.dcm"))
    assert ai.endswith("AI saliency: occlusion sensitivity") and ai.startswith("Nodule 1 (f1)")
    assert "saliency" not in added.lower()
    text = " ".join(_text(report["report.pdf"]).split())
    assert "AI saliency: occlusion sensitivity" in text and "reviewer-added" in text
    assert "Grad-CAM" not in text
