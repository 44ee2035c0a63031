"""The source CT instances that every DICOM output references (evidence, source images).

The reviewed Volume's ``info`` lists the SOPInstanceUIDs and files of its slices in volume order.
Before anything is written, every file is checked: present, readable, and the instance the volume
says it is. A study whose scan was moved after review fails here with the missing files named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from inference.imaging.volume import Volume
from viewer.export.errors import NotDicomSource, SourceFilesMissing, SourceMismatch


#: type 2 attributes of the Patient, General Study and General Equipment modules that the SR, SEG
#: and Parametric Map copy from their source. Type 2 means "present, possibly empty"; files written
#: by anonymisers or old scanners often drop them, so they are added empty to the in-memory headers
#: (the files are not touched) - the one repair here that is certain.
TYPE2_COPIED = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                "ReferringPhysicianName", "StudyID", "AccessionNumber", "Manufacturer")


@dataclass(frozen=True, slots=True, eq=False)
class SourceSeries:
    """Headers (no pixel data) of the source slices, index-aligned with the volume's z axis."""

    volume: Volume
    datasets: tuple[Dataset, ...]

    @property
    def frame_of_reference_uid(self) -> str:
        return str(self.datasets[0].FrameOfReferenceUID)

    @property
    def series_instance_uid(self) -> str:
        return str(self.datasets[0].SeriesInstanceUID)

    @property
    def study_instance_uid(self) -> str:
        return str(self.datasets[0].StudyInstanceUID)

    def slices(self, z_indices: range | list[int]) -> list[Dataset]:
        return [self.datasets[z] for z in z_indices]

    def z_of_world(self, world_xyz: tuple[float, float, float]) -> int:
        """The slice index (volume order) nearest to a world point."""
        z = int(round(float(self.volume.world_to_index(world_xyz)[0])))
        return min(max(z, 0), len(self.datasets) - 1)


def load_source(volume: Volume, subject: str = "") -> SourceSeries:
    """Read and check the source slice headers of ``volume``.

    Raises :class:`NotDicomSource` when the volume did not come from DICOM slices,
    :class:`SourceFilesMissing` naming every file that is gone, and :class:`SourceMismatch` when a
    file holds another instance than the one reviewed.
    """
    info = volume.info
    subject = subject or info.source or info.series_instance_uid or "the scan"
    files = info.source_files
    if not files or not info.sop_instance_uids:
        raise NotDicomSource(
            subject, "the scan was not read from DICOM slices, so DICOM SR/SEG/Parametric Map "
            "outputs would have no source instances to reference",
            "Export CSV or JSON for this scan, or review the original DICOM series")
    if len(files) != volume.shape[0] or len(info.sop_instance_uids) != volume.shape[0]:
        raise SourceMismatch(
            subject, f"the volume has {volume.shape[0]} slices but lists {len(files)} source files "
            f"and {len(info.sop_instance_uids)} instance UIDs",
            "Reload the scan from its DICOM folder and export again")
    missing = tuple(f for f in dict.fromkeys(files) if not Path(f).is_file())
    if missing:
        raise SourceFilesMissing(subject, missing)
    cache: dict[str, Dataset] = {}
    datasets = []
    for path, uid in zip(files, info.sop_instance_uids, strict=True):
        ds = cache.get(path)
        if ds is None:
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except (InvalidDicomError, OSError, EOFError) as exc:
                raise SourceMismatch(path, f"the source file can no longer be read ({exc})",
                                     "Restore the original file and export again") from exc
            for keyword in TYPE2_COPIED:
                if keyword not in ds:
                    setattr(ds, keyword, "")
            cache[path] = ds
        if str(ds.SOPInstanceUID) != uid:
            raise SourceMismatch(
                path, f"holds instance {ds.SOPInstanceUID}, but the reviewed slice was {uid}",
                "The folder changed after review: restore it or review the scan again")
        datasets.append(ds)
    return SourceSeries(volume, tuple(datasets))


def world_center_to_index(volume: Volume, center: tuple[float, float, float]) -> tuple[int, int, int]:
    """Nearest (z, y, x) voxel of a world point, clipped to the volume."""
    idx = np.rint(volume.world_to_index(center)).astype(int)
    idx = np.clip(idx, 0, np.asarray(volume.shape) - 1)
    return int(idx[0]), int(idx[1]), int(idx[2])
