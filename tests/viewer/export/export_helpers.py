"""Helpers of the export tests: the real LIDC-IDRI-0001 scan and a reviewed study of it.

The reviewed study holds the LUNA16 reference nodule of LIDC-IDRI-0001 as an accepted AI finding,
a rejected AI finding (a vessel) and a reviewer-added nodule. Its nodule masks are spheres of the
reference diameter on the scan's grid and its saliency a Gaussian around each centre.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pydicom
import pytest

from inference.domain.finding import Box3D, Finding, FindingSource, ModelInfo
from inference.imaging.volume import SeriesInfo, Volume
from inference.domain.nodule import LungRads, Measurement, NoduleAnalysis, NoduleType, Side, Zone
from viewer.review.model import FindingState, FindingStatus, RejectReason, ReviewedStudy, StudyStatus

#: LUNA16 annotations.csv, LIDC-IDRI-0001
NODULE_CENTER = (56.21, 86.34, -115.87)
NODULE_DIAMETER = 23.35
ADDED_CENTER = (-80.0, 40.0, -150.0)
SIGNED_AT = datetime(2026, 11, 24, 10, 30, tzinfo=timezone.utc)


def read_dicom_volume(folder: Path) -> Volume:
    """LIDC slices read with pydicom (the project loader is used where it exists)."""
    try:
        from inference.imaging import load
    except ImportError:
        return _read_with_pydicom(folder)
    return load(folder)


def _read_with_pydicom(folder: Path) -> Volume:
    files = [p for p in Path(folder).rglob("*.dcm")]
    slices = [pydicom.dcmread(p) for p in files]
    order = np.argsort([float(s.ImagePositionPatient[2]) for s in slices])
    slices = [slices[i] for i in order]
    names = [str(files[i]) for i in order]
    first = slices[0]
    dz = float(slices[1].ImagePositionPatient[2]) - float(first.ImagePositionPatient[2])
    row, col = (float(v) for v in first.PixelSpacing)
    x0, y0, z0 = (float(v) for v in first.ImagePositionPatient)
    aff = Volume.make_affine((col, row, dz), (x0, y0, z0))
    vox = np.stack([s.pixel_array * float(s.RescaleSlope) + float(s.RescaleIntercept)
                    for s in slices]).astype(np.int16)
    info = SeriesInfo(
        study_instance_uid=str(first.StudyInstanceUID), series_instance_uid=str(first.SeriesInstanceUID),
        frame_of_reference_uid=str(first.FrameOfReferenceUID), sop_class_uid=str(first.SOPClassUID),
        sop_instance_uids=tuple(str(s.SOPInstanceUID) for s in slices), source_files=tuple(names),
        patient_id=str(first.PatientID), source=str(folder))
    return Volume(vox, aff, info)


def analysis(long_mm: float, kind: NoduleType, rads: LungRads, side: Side, zone: Zone,
             risk: float) -> NoduleAnalysis:
    m = Measurement(long_axis_mm=long_mm, short_axis_mm=round(long_mm * 0.8, 1),
                    mean_diameter_mm=round(long_mm * 0.9, 1), max_3d_diameter_mm=long_mm + 1,
                    volume_mm3=round(np.pi / 6 * long_mm ** 3, 1), mean_hu=-20.0, max_hu=120.0,
                    solid_component_mm=round(long_mm * 0.5, 1) if kind is NoduleType.PART_SOLID else None)
    return NoduleAnalysis(measurement=m, nodule_type=kind, calcified=False, juxta_pleural=False,
                          side=side, zone=zone, location_note="test", malignancy_risk=risk,
                          risk_defaults_used=(), lung_rads=rads, lung_rads_reason="test", management="")


def make_study(volume: Volume, signed: bool = True) -> ReviewedStudy:
    reviewer = "Doe^Jane"
    nodule = Finding("f1", NODULE_CENTER, Box3D.around(NODULE_CENTER, NODULE_DIAMETER * 1.2), 0.93,
                     FindingSource.AI, NODULE_DIAMETER,
                     analysis(NODULE_DIAMETER, NoduleType.SOLID, LungRads.CAT_4B, Side.LEFT, Zone.MIDDLE, 0.42))
    vessel = Finding("f2", (-40.0, 20.0, -120.0), Box3D.around((-40.0, 20.0, -120.0), 6.0), 0.41)
    added = Finding("r1", ADDED_CENTER, Box3D.around(ADDED_CENTER, 8.0), 1.0, FindingSource.REVIEWER, 6.5,
                    analysis(6.5, NoduleType.PART_SOLID, LungRads.CAT_3, Side.RIGHT, Zone.LOWER, 0.05))
    t = SIGNED_AT
    states = (
        FindingState(nodule, FindingStatus.ACCEPTED, decided_by=reviewer, decided_at=t),
        FindingState(vessel, FindingStatus.REJECTED, RejectReason.VESSEL, decided_by=reviewer, decided_at=t),
        FindingState(added, FindingStatus.ACCEPTED, comment="missed by the AI", decided_by=reviewer,
                     decided_at=t),
    )
    return ReviewedStudy(
        study_instance_uid=volume.info.study_instance_uid,
        series_instance_uid=volume.info.series_instance_uid,
        scan_path=volume.info.source, status=StudyStatus.SIGNED_OFF if signed else StudyStatus.IN_REVIEW,
        findings=states, model=ModelInfo("nodule-det-small", "1.2.0", "ab" * 32, "NoduleLens detector", 0.5),
        reviewer=reviewer, signed_off_by=reviewer if signed else "", signed_off_at=t if signed else None,
        institution="Test Hospital")


def sphere_mask(volume: Volume, center, diameter_mm: float) -> Volume:
    """A uint8 crop Volume holding a ball of the given diameter around a world centre."""
    c = volume.world_to_index(center)
    half = np.ceil(diameter_mm / 2 / np.asarray(volume.spacing_zyx)).astype(int) + 1
    lo = np.maximum(np.rint(c).astype(int) - half, 0)
    hi = np.minimum(np.rint(c).astype(int) + half + 1, volume.shape)
    zz, yy, xx = np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi, strict=True)], indexing="ij")
    world = volume.index_to_world(np.stack([zz, yy, xx], -1))
    ball = (np.linalg.norm(world - np.asarray(center), axis=-1) <= diameter_mm / 2).astype(np.uint8)
    aff = volume.affine.copy()
    aff[:3, 3] = volume.index_to_world(lo.astype(float))
    return Volume(ball, aff)


def gaussian_saliency(volume: Volume, center, sigma_mm: float) -> Volume:
    crop = sphere_mask(volume, center, 4 * sigma_mm)
    zz, yy, xx = np.indices(crop.shape)
    world = crop.index_to_world(np.stack([zz, yy, xx], -1))
    d2 = np.sum((world - np.asarray(center)) ** 2, axis=-1)
    return crop.with_voxels(np.exp(-d2 / (2 * sigma_mm ** 2)).astype(np.float32))


def dciodvfy_errors(path: Path) -> list[str]:
    """The 'Error' lines dciodvfy prints for a file (its warnings are not errors).

    dciodvfy cannot read the Deflated transfer syntax (the Parametric Maps use it): such a file
    is validated as the same dataset re-encoded in Explicit VR Little Endian."""
    exe = shutil.which("dciodvfy")
    if exe is None:
        pytest.skip("dciodvfy (Debian dicom3tools) is not installed; run scripts/setup.sh")
    ds = pydicom.dcmread(path)
    if ds.file_meta.TransferSyntaxUID == pydicom.uid.DeflatedExplicitVRLittleEndian:
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
        path = Path(str(path) + ".inflated.dcm")
        ds.save_as(path, enforce_file_format=True)
    out = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=120)
    return [line for line in (out.stdout + out.stderr).splitlines() if "Error" in line]
