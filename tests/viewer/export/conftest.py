"""Fixtures of the export tests (helpers in export_helpers.py): the real LIDC-IDRI-0001 scan,
a reviewed study of it, nodule masks, saliency crops and one SR/SEG/Parametric Map export."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_helpers import (ADDED_CENTER, NODULE_CENTER, NODULE_DIAMETER, gaussian_saliency, make_study,
                            read_dicom_volume, sphere_mask)

from inference.domain.saliency import SaliencyMethod
from inference.imaging.volume import Volume
from inference.service.findings_file import SaliencyMap
from viewer.review.model import ReviewedStudy


@pytest.fixture(scope="session")
def lidc1_volume(lidc1: Path) -> Volume:
    return read_dicom_volume(lidc1)


@pytest.fixture(scope="session")
def study(lidc1_volume: Volume) -> ReviewedStudy:
    return make_study(lidc1_volume)


@pytest.fixture(scope="session")
def masks(lidc1_volume: Volume) -> dict[str, Volume]:
    return {"f1": sphere_mask(lidc1_volume, NODULE_CENTER, NODULE_DIAMETER),
            "r1": sphere_mask(lidc1_volume, ADDED_CENTER, 6.5)}


@pytest.fixture(scope="session")
def saliency(lidc1_volume: Volume) -> dict[str, SaliencyMap]:
    """Maps made by occlusion sensitivity (the default model's method)."""
    return {"f1": SaliencyMap(gaussian_saliency(lidc1_volume, NODULE_CENTER, 6.0), SaliencyMethod.OCCLUSION),
            "f2": SaliencyMap(gaussian_saliency(lidc1_volume, (-40.0, 20.0, -120.0), 3.0), SaliencyMethod.OCCLUSION),
            "r1": SaliencyMap(gaussian_saliency(lidc1_volume, ADDED_CENTER, 3.0), SaliencyMethod.OCCLUSION)}


@pytest.fixture(scope="session")
def exported(tmp_path_factory, study, lidc1_volume, masks, saliency) -> dict[str, Path]:
    """SR + SEG + Parametric Maps of the reviewed LIDC-IDRI-0001 study, written once."""
    from viewer.export.exporter import ExportInputs, export_study

    out = tmp_path_factory.mktemp("export") / "sr"
    result = export_study(ExportInputs(study, lidc1_volume, masks, saliency), "sr", out)
    return {p.stem: p for p in result.files}
