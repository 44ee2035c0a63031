"""The report for every PACS: the PDF as a DICOM Encapsulated PDF, and the key images as DICOM
Secondary Capture images (for viewers without SR or SEG support). Both join the source study
(patient and study attributes copied from the source CT) in their own series.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import highdicom as hd
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from viewer.export import identity
from viewer.export.key_images import KeyImage
from viewer.export.plan import ExportPlan
from viewer.export.source import SourceSeries

ENCAPSULATED_PDF_STORAGE = UID("1.2.840.10008.5.1.4.1.1.104.1")
PDF_SERIES_NUMBER = 9004
SC_SERIES_NUMBER = 9005

_PATIENT_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
                  "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber",
                  "StudyDescription", "IssuerOfPatientID")


def encapsulated_pdf(pdf: bytes, plan: ExportPlan, source: SourceSeries, title: str) -> Dataset:
    """A DICOM Encapsulated PDF of ``pdf`` in the source study."""
    now = datetime.now(timezone.utc)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ENCAPSULATED_PDF_STORAGE
    uid = UID(str(hd.UID()))
    ds.SOPInstanceUID = uid
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ENCAPSULATED_PDF_STORAGE
    ds.SpecificCharacterSet = "ISO_IR 192"
    _copy_patient_study(ds, source)
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = str(hd.UID())
    ds.SeriesNumber = PDF_SERIES_NUMBER
    ds.SeriesDescription = "NoduleLens Lung-RADS report (PDF)"
    ds.Manufacturer = identity.MANUFACTURER
    ds.ConversionType = "WSD"  # workstation
    ds.InstanceNumber = 1
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.AcquisitionDateTime = ""
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = title[:64]
    concept = Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator = "18748-4", "LN"
    concept.CodeMeaning = "Diagnostic imaging report"
    ds.ConceptNameCodeSequence = DicomSequence([concept])
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = pdf + (b"\0" if len(pdf) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(pdf)
    if plan.nodules:  # the key slices the report shows
        ds.SourceInstanceSequence = DicomSequence([_ref(source.datasets[n.key.z]) for n in plan.nodules])
    return ds


def secondary_captures(images: list[KeyImage], source: SourceSeries) -> list[Dataset]:
    """One Secondary Capture image per key image, all in one series of the source study."""
    series_uid = str(hd.UID())
    out: list[Dataset] = []
    for i, k in enumerate(images):
        ref = source.datasets[k.nodule.key.z]
        spacing: Any = (k.pixel_spacing_mm, k.pixel_spacing_mm)  # highdicom annotates ints; mm are floats
        sc = hd.sc.SCImage.from_ref_dataset(
            ref_dataset=ref, pixel_array=k.rgb, photometric_interpretation="RGB", bits_allocated=8,
            coordinate_system="PATIENT", series_instance_uid=series_uid, series_number=SC_SERIES_NUMBER,
            sop_instance_uid=str(hd.UID()), instance_number=i + 1, manufacturer=identity.MANUFACTURER,
            pixel_spacing=spacing, patient_orientation=("L", "P"),
            transfer_syntax_uid=ExplicitVRLittleEndian)
        sc.SeriesDescription = "NoduleLens key images"
        sc.ImageComments = k.caption[:10240]
        sc.BurnedInAnnotation = "YES"
        sc.Laterality = ""  # General Series, type 2C: the chest is not a paired organ
        sc.SourceImageSequence = DicomSequence([_ref(ref)])
        out.append(sc)
    return out


def _copy_patient_study(ds: Dataset, source: SourceSeries) -> None:
    """The source's patient and study attributes (its type 2 ones are there, possibly empty:
    :data:`viewer.export.source.TYPE2_COPIED`)."""
    ct = source.datasets[0]
    for keyword in _PATIENT_STUDY:
        if keyword in ct:
            setattr(ds, keyword, ct[keyword].value)
    if "StudyInstanceUID" not in ds:
        ds.StudyInstanceUID = generate_uid()


def _ref(ct: Dataset) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = ct.SOPClassUID
    item.ReferencedSOPInstanceUID = ct.SOPInstanceUID
    return item
