"""The Volume: one CT series as voxels plus the geometry and metadata that later steps need.

Conventions (see DESIGN.md):
- ``voxels`` is a numpy array indexed (z, y, x): slice, row, column.
- ``affine`` is a 4x4 matrix that maps a homogeneous *column-row-slice* index ``(x, y, z, 1)``
  to world coordinates in mm in DICOM's patient frame (LPS: +x towards the patient's left, +y
  posterior, +z superior). Its first three columns are the direction cosines times the spacing.
- Voxel indices given to or returned by :meth:`Volume.index_to_world` /
  :meth:`Volume.world_to_index` are in **array order (z, y, x)**; world points are always
  **(x, y, z) LPS mm**. Nothing else in the project needs to know about the flip.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    """Series metadata carried with a volume. Empty strings / None mean 'not in the source'."""

    study_instance_uid: str = ""
    series_instance_uid: str = ""
    frame_of_reference_uid: str = ""
    sop_class_uid: str = ""
    #: SOPInstanceUIDs of the slices in volume order (z index 0 first); one entry per frame of a
    #: multi-frame object repeats that object's UID.
    sop_instance_uids: tuple[str, ...] = ()
    #: the files the slices came from, in volume order (same length as ``sop_instance_uids``).
    source_files: tuple[str, ...] = ()
    modality: str = "CT"
    series_description: str = ""
    series_number: int | None = None
    study_description: str = ""
    study_date: str = ""  # DICOM DA, YYYYMMDD
    study_id: str = ""
    accession_number: str = ""
    patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""  # YYYYMMDD
    patient_sex: str = ""  # "M", "F", "O" or ""
    patient_age_years: float | None = None
    manufacturer: str = ""
    manufacturer_model: str = ""
    kvp: float | None = None
    convolution_kernel: str = ""
    slice_thickness_mm: float | None = None
    #: where it came from: a folder, a file, "phantom:seed=…"
    source: str = ""
    #: repairs or doubts the loader wants the user to know about
    warnings: tuple[str, ...] = ()

    def with_warnings(self, *more: str) -> "SeriesInfo":
        return replace(self, warnings=self.warnings + tuple(more))


@dataclass(frozen=True, slots=True, eq=False)
class Volume:
    """A 3D image on a regular grid with its LPS affine. CT volumes hold int16 HU.

    Float volumes (e.g. a saliency map, 0..1) use the same type on any grid.
    """

    voxels: np.ndarray
    affine: np.ndarray
    info: SeriesInfo = field(default_factory=SeriesInfo)

    def __post_init__(self) -> None:
        vox = self.voxels
        if not isinstance(vox, np.ndarray) or vox.ndim != 3:
            raise ValueError("Volume.voxels must be a 3D numpy array indexed (z, y, x)")
        if min(vox.shape) < 1:
            raise ValueError(f"Volume.voxels has an empty axis: shape {vox.shape}")
        if vox.dtype not in (np.int16, np.float32, np.uint8):
            raise ValueError(f"Volume.voxels must be int16 (HU), float32 or uint8, not {vox.dtype}")
        aff = np.asarray(self.affine, dtype=np.float64)
        if aff.shape != (4, 4) or not np.all(np.isfinite(aff)):
            raise ValueError("Volume.affine must be a finite 4x4 matrix")
        if not np.allclose(aff[3], (0, 0, 0, 1)):
            raise ValueError("Volume.affine's last row must be (0, 0, 0, 1)")
        if abs(np.linalg.det(aff[:3, :3])) < 1e-9:
            raise ValueError("Volume.affine is singular (zero spacing or parallel axes)")
        aff = aff.copy()
        aff.setflags(write=False)
        object.__setattr__(self, "affine", aff)
        if vox.flags.writeable:
            vox = vox.view()
            vox.setflags(write=False)
            object.__setattr__(self, "voxels", vox)

    # -- construction --------------------------------------------------------------------------
    @staticmethod
    def make_affine(
        spacing_xyz: tuple[float, float, float],
        origin_xyz: tuple[float, float, float] = (0.0, 0.0, 0.0),
        direction: np.ndarray | None = None,
    ) -> np.ndarray:
        """Affine from spacing (x, y, z), origin (LPS mm of voxel (0,0,0)) and a 3x3 direction
        matrix whose columns are the unit vectors of the column, row and slice axes."""
        d = np.eye(3) if direction is None else np.asarray(direction, dtype=np.float64)
        aff = np.eye(4)
        aff[:3, :3] = d * np.asarray(spacing_xyz, dtype=np.float64)[None, :]
        aff[:3, 3] = origin_xyz
        return aff

    # -- geometry ------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """(z, y, x)"""
        nz, ny, nx = (int(s) for s in self.voxels.shape)
        return nz, ny, nx

    @property
    def spacing_xyz(self) -> tuple[float, float, float]:
        s = np.linalg.norm(self.affine[:3, :3], axis=0)
        return (float(s[0]), float(s[1]), float(s[2]))

    @property
    def spacing_zyx(self) -> tuple[float, float, float]:
        x, y, z = self.spacing_xyz
        return (z, y, x)

    @property
    def origin(self) -> tuple[float, float, float]:
        """World LPS mm of the centre of voxel (0, 0, 0)."""
        o = self.affine[:3, 3]
        return (float(o[0]), float(o[1]), float(o[2]))

    @property
    def direction(self) -> np.ndarray:
        """3x3 matrix; columns are the unit vectors of the column (x), row (y), slice (z) axes."""
        return self.affine[:3, :3] / np.asarray(self.spacing_xyz)[None, :]

    @property
    def is_axial(self) -> bool:
        """True when the slice axis is within ~10 degrees of the patient's S axis."""
        return abs(self.direction[2, 2]) > 0.985

    def index_to_world(self, index_zyx: np.ndarray | tuple | list) -> np.ndarray:
        """Array-order (z, y, x) indices (..., 3), possibly fractional → world LPS mm (..., 3)."""
        idx = np.asarray(index_zyx, dtype=np.float64)[..., ::-1]
        return idx @ self.affine[:3, :3].T + self.affine[:3, 3]

    def world_to_index(self, world_xyz: np.ndarray | tuple | list) -> np.ndarray:
        """World LPS mm (..., 3) → fractional array-order (z, y, x) indices (..., 3)."""
        w = np.asarray(world_xyz, dtype=np.float64) - self.affine[:3, 3]
        ijk = w @ np.linalg.inv(self.affine[:3, :3]).T
        return ijk[..., ::-1]

    def contains_world(self, world_xyz: np.ndarray | tuple | list) -> bool:
        """True when the world point lies within the volume's voxel extent (±half a voxel)."""
        idx = self.world_to_index(world_xyz)
        return bool(np.all(idx >= -0.5) and np.all(idx <= np.asarray(self.shape) - 0.5))

    def world_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned world bounding box (min xyz, max xyz) of the voxel centres."""
        z, y, x = (s - 1 for s in self.shape)
        corners = np.array([[a, b, c] for a in (0, z) for b in (0, y) for c in (0, x)], float)
        w = self.index_to_world(corners)
        return w.min(axis=0), w.max(axis=0)

    @property
    def nbytes(self) -> int:
        return int(self.voxels.nbytes)

    def with_voxels(self, voxels: np.ndarray, affine: np.ndarray | None = None) -> "Volume":
        """Same metadata, new voxels (and optionally a new grid)."""
        return Volume(voxels, self.affine if affine is None else affine, self.info)
