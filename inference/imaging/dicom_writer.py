"""Write a Volume as a DICOM CT series: one CT Image Storage file per axial slice.

The files carry every type 1 and type 2 attribute of the CT Image IOD (``dciodvfy`` clean), the
geometry from the volume's affine (ImagePositionPatient / ImageOrientationPatient / PixelSpacing)
and signed 16-bit HU pixels (RescaleSlope 1, RescaleIntercept 0). The patient defaults to an
obviously synthetic one; nothing is copied from a source scan's identity.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Callable

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID, UID, \
    generate_uid

from inference.imaging.errors import ImagingError
from inference.imaging.volume import Volume


class DicomWriteError(ImagingError):
    """The volume cannot be written as a CT series, or not to that place."""


def _ds(value: float) -> str:
    """A DICOM DS string (at most 16 characters)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    if len(text) > 16:
        text = f"{value:.8g}"
    return "0" if text in ("-0", "") else text


def _uid(seed: str | None, *parts: object) -> UID:
    if seed is None:
        return generate_uid()
    return generate_uid(entropy_srcs=[seed, *(str(p) for p in parts)])


def _check(volume: Volume, out_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    if volume.voxels.dtype != np.int16:
        raise DicomWriteError(out_dir, f"only int16 HU volumes are written as CT, not "
                              f"{volume.voxels.dtype}", "Convert the voxels to int16 Hounsfield units")
    d = volume.direction
    row, col, normal = d[:, 0], d[:, 1], d[:, 2]
    if abs(row @ col) > 1e-4 or np.linalg.norm(np.cross(row, col) - normal) > 1e-3:
        raise DicomWriteError(out_dir, "the volume's slice axis is not the right-handed normal of "
                              "its rows and columns (sheared or mirrored grid)",
                              "Resample the volume onto an orthogonal right-handed grid first")
    check_out_dir(out_dir)
    return row, col


def check_out_dir(out_dir: str | Path) -> None:
    """Raise :class:`DicomWriteError` unless ``out_dir`` is new, or a folder without DICOM files."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise DicomWriteError(out_dir, "exists and is not a folder", "Choose a folder path")
    if out_dir.is_dir() and any(out_dir.glob("*.dcm")):
        raise DicomWriteError(out_dir, "already holds DICOM files (two series would mix)",
                              "Choose an empty or new folder")


def write_series(
    volume: Volume,
    out_dir: str | Path,
    *,
    series_description: str = "NoduleLens synthetic CT",
    patient_name: str = "SYNTHETIC^PHANTOM",
    patient_id: str = "SYNTHETIC-0001",
    patient_sex: str | None = None,
    patient_age_years: float | None = None,
    study_description: str = "Synthetic low-dose chest CT",
    study_date: str | None = None,
    series_number: int = 1,
    study_instance_uid: str | None = None,
    series_instance_uid: str | None = None,
    frame_of_reference_uid: str | None = None,
    uid_seed: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> list[Path]:
    """Write ``volume`` to ``out_dir`` (created) as ``CT0001.dcm``…; returns the paths in slice order.

    UIDs are new unless given; with ``uid_seed`` they are derived from it (same seed, same UIDs).
    Sex and age default to the volume's series info (``O`` / none when it has none).
    """
    out = Path(out_dir)
    row, col = _check(volume, out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DicomWriteError(out, f"cannot create the folder ({exc.strerror})",
                              "Choose a writable place") from exc
    info = volume.info
    study_uid = study_instance_uid or _uid(uid_seed, "study")
    series_uid = series_instance_uid or _uid(uid_seed, "series")
    for_uid = frame_of_reference_uid or _uid(uid_seed, "frame-of-reference")
    now = _dt.datetime.now()
    date = study_date or now.strftime("%Y%m%d")
    time = "120000.000000" if uid_seed is not None else now.strftime("%H%M%S.%f")
    sex = patient_sex if patient_sex is not None else (info.patient_sex or "O")
    age = patient_age_years if patient_age_years is not None else info.patient_age_years
    sx, sy, sz = volume.spacing_xyz

    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = ds.AcquisitionTime = time
    ds.AccessionNumber = ""
    ds.Modality = "CT"
    ds.Manufacturer = info.manufacturer or "NoduleLens"
    ds.ManufacturerModelName = info.manufacturer_model or "synthetic"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = study_description
    ds.SeriesDescription = series_description
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = sex
    if age is not None:
        ds.PatientAge = f"{int(age):03d}Y"
    ds.BodyPartExamined = "CHEST"
    ds.SliceThickness = _ds(info.slice_thickness_mm or sz)
    ds.KVP = _ds(info.kvp or 120.0)
    ds.ConvolutionKernel = info.convolution_kernel or "SYNTHETIC"
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = int(series_number)
    ds.AcquisitionNumber = 1
    ds.ImageOrientationPatient = [_ds(v) for v in (*row, *col)]
    ds.FrameOfReferenceUID = for_uid
    ds.PositionReferenceIndicator = ""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = volume.shape[1], volume.shape[2]
    ds.PixelSpacing = [_ds(sy), _ds(sx)]  # row spacing (between rows), column spacing
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.WindowCenter = "-600"
    ds.WindowWidth = "1500"
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta

    normal = volume.direction[:, 2]
    paths: list[Path] = []
    nz = volume.shape[0]
    for k in range(nz):
        pos = volume.index_to_world((k, 0, 0))
        sop_uid = _uid(uid_seed, "instance", series_uid, k)
        ds.SOPInstanceUID = sop_uid
        meta.MediaStorageSOPInstanceUID = sop_uid
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [_ds(v) for v in pos]
        ds.SliceLocation = _ds(float(pos @ normal))
        ds.PixelData = np.ascontiguousarray(volume.voxels[k], dtype="<i2").tobytes()
        path = out / f"CT{k + 1:04d}.dcm"
        try:
            ds.save_as(path, enforce_file_format=True)
        except OSError as exc:
            raise DicomWriteError(path, f"cannot write ({exc.strerror})",
                                  "Free disk space or choose a writable folder") from exc
        paths.append(path)
        if progress is not None:
            progress((k + 1) / nz)
    return paths


__all__ = ["DicomWriteError", "check_out_dir", "write_series"]
