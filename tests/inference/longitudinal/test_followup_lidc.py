"""A real-background follow-up of LIDC-IDRI-0001, written as a second DICOM study of the same patient,
read back and compared with exact truth for the planted nodules."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest

from inference.imaging import load
from inference.longitudinal import NoduleInput, PairStatus, compare
from inference.domain.nodule import Growth, LungRads
from inference.phantom.followup import make_followup_from_scan, write_followup

LUNA_0001 = [((56.21, 86.34, -115.87), 23.35)]


@pytest.fixture(scope="module")
def written(lidc1, tmp_path_factory):
    prior = load(lidc1)
    pair = make_followup_from_scan(prior, LUNA_0001, seed=0)
    out = tmp_path_factory.mktemp("lidc-followup")
    return pair, write_followup(pair, out)


def test_written_as_two_studies_of_one_patient(written):
    pair, paths = written
    p = pydicom.dcmread(next(paths["prior"].glob("*.dcm")), stop_before_pixels=True)
    c = pydicom.dcmread(next(paths["current"].glob("*.dcm")), stop_before_pixels=True)
    assert p.PatientID == c.PatientID == "LIDC-IDRI-0001"
    assert p.StudyInstanceUID != c.StudyInstanceUID and c.StudyDate > p.StudyDate
    truth = json.loads(paths["truth"].read_text())
    assert {n["status"] for n in truth["nodules"]} == {"matched", "new"}


def test_compare_read_back_pair(written):
    pair, paths = written
    prior, current = load(paths["prior"]), load(paths["current"])
    rng = np.random.default_rng(1)
    cur = [NoduleInput(n.key, tuple(np.asarray(n.current_center) + rng.normal(0, 1.0, 3)), n.current_diameter_mm)
           for n in pair.nodules if n.current_center is not None]
    pri = [NoduleInput(n.key, tuple(np.asarray(n.prior_center) + rng.normal(0, 1.0, 3)), n.prior_diameter_mm)
           for n in pair.nodules if n.prior_center is not None]
    res = compare(current, prior, cur, pri)
    by = {c.current_key or c.prior_key: c for c in res.nodules}
    grown, real, new = by["T1-grow"], by["R1-stable"], by["T2-new"]
    t = next(n for n in pair.nodules if n.key == "T1-grow")
    assert grown.status is PairStatus.MATCHED and grown.prior_key == "T1-grow"
    assert grown.doubling_time_days == pytest.approx(t.doubling_time_days(pair.interval_days), rel=0.25)
    assert grown.growth is Growth.GROWING and grown.lung_rads is LungRads.CAT_4B
    assert real.status is PairStatus.MATCHED and real.growth is Growth.STABLE
    assert real.doubling_time_days is None  # the real nodule did not change
    assert new.status is PairStatus.NEW
    med = np.median([np.linalg.norm(res.registration.to_prior(n.current_center) - np.asarray(n.prior_center))
                     for n in pair.nodules if n.prior_center and n.current_center])
    assert med < 2.0
