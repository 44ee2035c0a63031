"""Fixtures of the PACS tests: one real Orthanc for the module (temp config and storage, free
loopback ports, DICOMweb on, our AE registered as a modality), a small phantom patient with a
current and a prior CT study, and the PACS configuration pointing at that Orthanc."""

from __future__ import annotations

from pathlib import Path

import pytest
from pacs_orthanc import (CURRENT_DATE, OLD_DATE, ORTHANC, OUR_AE, PASSWORD, PATIENT, PRIOR_DATE, USER, Orthanc,
                          free_port)

from viewer.pacs.nodes import Auth, LocalAE, Node, PacsConfig



@pytest.fixture(scope="module")
def listener_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory, listener_port: int):
    if not ORTHANC.exists():
        pytest.skip("Orthanc is not installed (scripts/setup.sh installs it)")
    pacs = Orthanc(tmp_path_factory.mktemp("orthanc"), {"nodulelens": (OUR_AE, listener_port)})
    pacs.start()
    yield pacs
    pacs.stop()


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory, orthanc: Orthanc, listener_port: int) -> PacsConfig:
    root = tmp_path_factory.mktemp("nodulelens")
    local = LocalAE(ae_title=OUR_AE, port=listener_port, archive=str(root / "archive"), quiet_seconds=1.5,
                    min_free_mb=10, timeout_s=20, priors_years=5)
    node = Node("orthanc", ae_title=orthanc.ae_title, host="127.0.0.1", port=orthanc.dicom_port,
                web_url=orthanc.web_url, auth=Auth.BASIC, username=USER, secret=PASSWORD)
    return PacsConfig(local, (node,))


@pytest.fixture(scope="module")
def phantom_studies(tmp_path_factory: pytest.TempPathFactory, orthanc: Orthanc) -> dict[str, Path]:
    """Three small CT studies of one patient (current, a prior within 5 years, one older), in Orthanc."""
    from inference.imaging.dicom_writer import write_series
    from inference.phantom import SMALL_SHAPE_ZYX, demo_phantom

    volume = demo_phantom(shape_zyx=SMALL_SHAPE_ZYX).volume
    root = tmp_path_factory.mktemp("phantom")
    out = {}
    for name, date in (("current", CURRENT_DATE), ("prior", PRIOR_DATE), ("old", OLD_DATE)):
        files = write_series(volume, root / name, patient_id=PATIENT, patient_name="PHANTOM^PACS",
                             study_date=date, uid_seed=f"pacs-test-{name}",
                             series_description=f"phantom {name}")
        orthanc.upload(files)
        out[name] = root / name
    return out
