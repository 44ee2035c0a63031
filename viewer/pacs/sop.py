"""The SOP classes and transfer syntaxes we store and retrieve: CT and the objects we export."""

from __future__ import annotations

from pydicom.uid import (
    DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian,
    JPEG2000Lossless, JPEGLosslessSV1, RLELossless,
)
from pynetdicom.sop_class import (  # type: ignore[attr-defined]  # names made at import time
    BasicTextSRStorage, Comprehensive3DSRStorage, ComprehensiveSRStorage, CTImageStorage,
    EncapsulatedPDFStorage, EnhancedCTImageStorage, EnhancedSRStorage, KeyObjectSelectionDocumentStorage,
    LegacyConvertedEnhancedCTImageStorage, ParametricMapStorage, SecondaryCaptureImageStorage,
    SegmentationStorage,
)

#: what the listener accepts and a C-GET asks for
STORAGE_CLASSES: tuple[str, ...] = (
    CTImageStorage, EnhancedCTImageStorage, LegacyConvertedEnhancedCTImageStorage,
    SegmentationStorage, ParametricMapStorage, ComprehensiveSRStorage, Comprehensive3DSRStorage,
    EnhancedSRStorage, BasicTextSRStorage, EncapsulatedPDFStorage, SecondaryCaptureImageStorage,
    KeyObjectSelectionDocumentStorage,
)

#: the instances are stored as received, so any of these is accepted
TRANSFER_SYNTAXES: tuple[str, ...] = (
    ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian,
    JPEGLosslessSV1, JPEG2000Lossless, RLELossless,
)

CT_CLASSES = frozenset({CTImageStorage, EnhancedCTImageStorage, LegacyConvertedEnhancedCTImageStorage})
