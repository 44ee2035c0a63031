"""The follow-up SR content (prior size, interval, change, doubling time, comparison, Lung-RADS with
comparison) in a TID 1500 SR over the current exam of a phantom follow-up pair, checked with dciodvfy."""

from __future__ import annotations
from inference.domain.nodule import LungRads

import sys
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.sequence import Sequence as DicomSequence
from pydicom.sr.codedict import codes

from inference.domain.finding import Box3D, Finding
from inference.phantom.followup import make_followup_phantom, write_followup
from viewer.export import codes as nl
from viewer.export.followup_sr import followup_evaluations, followup_measurements
from viewer.review.comparisons import link_screened
from viewer.review.followup_export import followup_export
from viewer.review.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from export_helpers import dciodvfy_errors


def _values(ds: pydicom.Dataset, out: dict[str, object]) -> dict[str, object]:
    for item in getattr(ds, "ContentSequence", []):
        name = item.ConceptNameCodeSequence[0].CodeValue
        if item.ValueType == "NUM":
            out[name] = float(item.MeasuredValueSequence[0].NumericValue)
        elif item.ValueType == "CODE":
            out.setdefault(name, item.ConceptCodeSequence[0].CodeValue)
        _values(item, out)
    return out


def test_followup_sr_validates_and_carries_the_prior(tmp_path):
    pair = make_followup_phantom(11, interval_days=365)
    paths = write_followup(pair, tmp_path / "fu")
    store = Store(tmp_path / "review.sqlite")
    for name, vol in (("prior", pair.prior), ("current", pair.current)):
        i = vol.info
        store.add_series(i.study_instance_uid, i.series_instance_uid, paths[name], actor="t", patient_id=i.patient_id)
        fs = [Finding(n.key, c, Box3D.around(c, 12.0), 0.9) for n in pair.nodules
              if (c := (n.current_center if name == "current" else n.prior_center)) is not None]
        store.record_screening(i.series_instance_uid, fs, None, flagged=True, highest_lung_rads=LungRads("3"),
                               highest_risk=None)
    link_screened(store, [pair.current.info.series_instance_uid], lambda _m: None, "t")
    data = followup_export(store, pair.current.info.series_instance_uid)
    c = data.nodules["T1-grow"]
    source = [pydicom.dcmread(p) for p in sorted(paths["current"].glob("*.dcm"))]
    group = hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=data.tracking_uids["T1-grow"], identifier="Nodule 1"),
        finding_type=nl.NODULE,
        referenced_volume_surface=hd.sr.VolumeSurface(
            graphic_type=hd.sr.GraphicTypeValues3D.POINT, graphic_data=np.array([c.current.center]),
            frame_of_reference_uid=str(source[0].FrameOfReferenceUID),
            source_series=hd.sr.SourceSeriesForSegmentation(str(source[0].SeriesInstanceUID))),
        measurements=[hd.sr.Measurement(nl.MEAN_DIAMETER, round(c.current.mean_diameter_mm, 1), nl.MM)]
        + followup_measurements(c),
        qualitative_evaluations=followup_evaluations(c))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(
            observer_person_context=hd.sr.ObserverContext(
                observer_type=codes.DCM.Person,
                observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name="Reader^Test"))),
        procedure_reported=[nl.CT_CHEST], imaging_measurements=[group], title=codes.cid7021.ImagingMeasurementReport)
    sr = hd.sr.Comprehensive3DSR(evidence=source, content=report[0], series_instance_uid=hd.UID(), series_number=99,
                                 sop_instance_uid=hd.UID(), instance_number=1, manufacturer="NoduleLens")
    sr.CodingSchemeIdentificationSequence = DicomSequence([nl.coding_scheme_identification()])
    out = tmp_path / "sr.dcm"
    sr.save_as(out)
    assert dciodvfy_errors(out) == []
    got = _values(pydicom.dcmread(out), {})
    assert got["PRIORDIAM"] == round(c.prior.mean_diameter_mm, 1) and got["PRIORINT"] == 365
    assert got["VDT"] == round(c.doubling_time_days) and got["COMPARE"] == "GROWING"
    assert got["LUNGRADS"] == "LR4B"
    store.close()
