"""Saliency of each finding as a DICOM Parametric Map (float 0..1 on the source slices).

One instance per finding, all in one series. Frames have the source CT's geometry: one frame per
source slice, same rows, columns and plane positions. OHIF's Parametric Map reader
(@cornerstonejs/adapters) requires this: it refuses other rows/columns and writes each frame at
its source slice's index into a buffer sized by the map's frame count; dcmjs reads 32-bit float
maps only. A whole-series float map is large (4 bytes a voxel) but almost all zero, so it is
written with the Deflated Explicit VR Little Endian transfer syntax, which dcmjs, dcmqi and
dciodvfy read. highdicom 0.28 does not add
the Frame Anatomy functional group that the Parametric Map IOD requires; it is added here
(thorax, with the nodule's laterality), without which dciodvfy reports the object invalid.

Each map is labelled by the method that made it (its :class:`SaliencyMap`'s method, recorded by
the worker in the saliency file): the LUT explanation, the content label and description, and the
series description (the methods of every map in the series) name occlusion sensitivity, Grad-CAM
or "unknown method"; never a method the map does not come from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import DeflatedExplicitVRLittleEndian

from inference.domain.nodule import Side
from inference.domain.saliency import methods_label
from inference.service.findings_file import SaliencyMap
from viewer.export import codes, identity
from viewer.export.grid import crop_offset
from viewer.export.source import SourceSeries
from viewer.review.model import FindingState, ReviewedStudy


def build_parametric_maps(study: ReviewedStudy, source: SourceSeries,
                          saliency: Mapping[str, SaliencyMap]) -> dict[str, Dataset]:
    """finding id → Parametric Map, for every finding of the study that has a saliency crop."""
    series_uid = str(hd.UID())
    mapped = [(s, saliency[s.finding.finding_id]) for s in study.findings if s.finding.finding_id in saliency]
    description = series_description([m for _, m in mapped])
    out: dict[str, Dataset] = {}
    for number, (state, saliency_map) in enumerate(mapped, start=1):
        out[state.finding.finding_id] = _one_map(study, source, state, saliency_map, series_uid, number,
                                                 description)
    return out


def series_description(maps: Sequence[SaliencyMap]) -> str:
    """The series' description: the method(s) of its maps (one series holds every map)."""
    return f"NoduleLens AI saliency ({methods_label(m.method for m in maps)})"[:64]


def _one_map(study: ReviewedStudy, source: SourceSeries, state: FindingState, saliency_map: SaliencyMap,
             series_uid: str, number: int, description: str) -> Dataset:
    fid = state.finding.finding_id
    scan = source.volume
    crop, method = saliency_map.volume, saliency_map.method
    z0, y0, x0 = crop_offset(crop, scan, f"saliency of finding {fid}")
    nz, ny, nx = crop.shape
    values = np.zeros(scan.shape, dtype=np.float32)
    values[z0:z0 + nz, y0:y0 + ny, x0:x0 + nx] = np.clip(np.nan_to_num(np.asarray(crop.voxels, np.float32)), 0, 1)
    # every source frame: highdicom's affine maps (slice, row, column); ours (column, row, slice)
    hd_affine = scan.affine.copy()
    hd_affine[:3, :3] = scan.affine[:3, [2, 1, 0]]
    volume = hd.Volume(values, hd_affine, coordinate_system="PATIENT",
                       frame_of_reference_uid=source.frame_of_reference_uid)
    mapping = hd.pm.RealWorldValueMapping(
        lut_label="SALIENCY",
        lut_explanation=f"Saliency of the detection, 0..1: {method.label}"[:64],
        unit=codes.NO_UNIT,
        value_range=(0.0, 1.0),
        slope=1.0,
        intercept=0.0,
        quantity_definition=codes.SALIENCY,
    )
    pm = hd.pm.ParametricMap(
        source_images=list(source.datasets),
        pixel_array=volume,
        series_instance_uid=series_uid,
        series_number=identity.PMAP_SERIES_NUMBER,
        sop_instance_uid=hd.UID(),
        instance_number=number,
        manufacturer=identity.MANUFACTURER,
        manufacturer_model_name=identity.MODEL_NAME,
        software_versions=identity.software_version(),
        device_serial_number=identity.device_serial(study),
        contains_recognizable_visual_features=False,
        real_world_value_mappings=[mapping],
        voi_lut_transformations=[hd.VOILUTTransformation(window_center=0.5, window_width=1.0)],
        content_description=f"Saliency ({method.label}) of finding {fid}"[:64],
        content_label=method.code,
        content_creator_name=identity.person_name(study.signed_off_by or study.reviewer) or None,
    )
    _add_frame_anatomy(pm, _laterality(state))
    _frames_ascending(pm)
    pm.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    pm.SeriesDescription = description
    return pm


def _laterality(state: FindingState) -> str:
    side: Any = getattr(state.finding.analysis, "side", None)
    return {Side.RIGHT: "R", Side.LEFT: "L"}.get(side, "B")


def _add_frame_anatomy(pm: Dataset, laterality: str) -> None:
    region = Dataset()
    region.CodeValue = "816094009"
    region.CodingSchemeDesignator = "SCT"
    region.CodeMeaning = "Thorax"
    anatomy = Dataset()
    anatomy.AnatomicRegionSequence = DicomSequence([region])
    anatomy.FrameLaterality = laterality
    pm.SharedFunctionalGroupsSequence[0].FrameAnatomySequence = DicomSequence([anatomy])


def _frames_ascending(pm: Dataset) -> None:
    """Order the frames by ascending position along the slice normal.

    highdicom writes them in descending order; dcmqi's paramap2itkimage stacks frames in file
    order from the lowest position, so it would turn the map upside down. (OHIF's reader places
    each frame at its source instance, in any order.)"""
    orientation = np.asarray(pm.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0]
                             .ImageOrientationPatient, float)
    normal = np.cross(orientation[:3], orientation[3:])
    frames = pm.PerFrameFunctionalGroupsSequence
    along = [float(np.dot(normal, np.asarray(f.PlanePositionSequence[0].ImagePositionPatient, float)))
             for f in frames]
    order = np.argsort(along, kind="stable")
    if np.all(order == np.arange(len(order))):
        return
    pixels = np.asarray(pm.pixel_array, dtype=np.float32).reshape(len(frames), pm.Rows, pm.Columns)
    pm.FloatPixelData = np.ascontiguousarray(pixels[order]).tobytes()
    pm.PerFrameFunctionalGroupsSequence = DicomSequence([frames[int(i)] for i in order])
