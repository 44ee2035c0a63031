"""A small phantom chest CT written as a real DICOM CT series, for the screening tests.

Uses the project's writer (``inference.imaging.dicom_writer.write_series``) where it exists;
otherwise writes CT Image Storage files with pydicom here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID, generate_uid

from inference.phantom import NoduleSpec, make_phantom


def small_phantom(seed: int = 7):
    """64 x 96 x 96 voxels of 2.5 x 2.5 x 2.5 mm with one solid 14 mm nodule in the right lung."""
    return make_phantom(seed, (40, 96, 96), (2.5, 2.5, 2.5),
                        nodules=[NoduleSpec(None, 14.0)], noise_hu=10.0)


def write_ct_series(volume, out: Path, patient_id: str, skip: tuple[int, ...] = ()) -> tuple[str, str]:
    """Write ``volume`` as one file per slice; ``skip`` leaves slices out (a broken series).
    Returns (StudyInstanceUID, SeriesInstanceUID)."""
    out.mkdir(parents=True, exist_ok=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    sx, sy, sz = volume.spacing_xyz
    for k in range(volume.shape[0]):
        if k in skip:
            continue
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        ds = FileDataset(str(out / f"{k:04d}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.Modality, ds.PatientID, ds.PatientName = "CT", patient_id, f"Phantom^{patient_id}"
        ds.PatientSex, ds.PatientAge, ds.StudyDate = "F", "062Y", "20240101"
        ds.SeriesNumber, ds.InstanceNumber = 1, k + 1
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.ImagePositionPatient = [float(v) for v in volume.index_to_world((k, 0, 0))]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [sy, sx]
        ds.SliceThickness = sz
        ds.Rows, ds.Columns = volume.shape[1], volume.shape[2]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "HU"
        ds.PixelData = np.ascontiguousarray(volume.voxels[k], dtype="<i2").tobytes()
        pydicom.dcmwrite(ds.filename, ds, enforce_file_format=True)
    return study, series
