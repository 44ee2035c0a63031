"""The attributes the de-identifier acts on: DICOM PS3.15 Annex E, Basic Application
Confidentiality Profile (Table E.1-1), narrowed to what NoduleLens' SR, SEG and Parametric Maps
can carry, with the Clean Structured Content and Retain Device Identity options.

Actions (PS3.15 codes): ``X`` remove, ``Z`` keep the attribute with an empty value, ``D`` replace
with a dummy value. Where the table allows several (X/Z, Z/D, X/D), the choice here is the one that
keeps the attribute's type in these IODs valid (type 1 → D, type 2 → Z, type 3 → X). UIDs (``U``)
are handled by rule, not by this table: every UI value that is not a registered DICOM UID (SOP
classes, transfer syntaxes, coding schemes) is remapped, consistently across one export.
"""

from __future__ import annotations

#: keyword → action, for attributes at any depth (including inside sequences)
ACTIONS: dict[str, str] = {
    # patient
    "PatientName": "Z", "PatientID": "Z", "PatientBirthDate": "Z", "PatientSex": "Z",
    "PatientAge": "X", "PatientSize": "X", "PatientWeight": "X", "PatientAddress": "X",
    "PatientBirthTime": "X", "PatientBirthName": "X", "PatientMotherBirthName": "X",
    "OtherPatientIDs": "X", "OtherPatientNames": "X", "OtherPatientIDsSequence": "X",
    "PatientComments": "X", "PatientTelephoneNumbers": "X", "EthnicGroup": "X",
    "Occupation": "X", "MedicalRecordLocator": "X", "AdditionalPatientHistory": "X",
    "IssuerOfPatientID": "X", "PatientInsurancePlanCodeSequence": "X", "MilitaryRank": "X",
    "BranchOfService": "X", "CountryOfResidence": "X", "RegionOfResidence": "X",
    "PatientReligiousPreference": "X", "PregnancyStatus": "X", "SmokingStatus": "X",
    "LastMenstrualDate": "X", "ResponsiblePerson": "X", "ResponsibleOrganization": "X",
    # study, series, visit
    "StudyDate": "Z", "StudyTime": "Z", "AccessionNumber": "Z", "StudyID": "Z",
    "ReferringPhysicianName": "Z", "StudyDescription": "X", "SeriesDescription": "X",
    "SeriesDate": "X", "SeriesTime": "X", "AcquisitionDate": "X", "AcquisitionTime": "X",
    "AcquisitionDateTime": "Z", "InstanceCreationDate": "X", "InstanceCreationTime": "X",
    "AdmittingDate": "X", "AdmittingDiagnosesDescription": "X", "AdmissionID": "X",
    "PhysiciansOfRecord": "X", "PerformingPhysicianName": "X", "NameOfPhysiciansReadingStudy": "X",
    "OperatorsName": "X", "RequestingPhysician": "X", "RequestAttributesSequence": "X",
    "ReferencedStudySequence": "X", "ReferencedPatientSequence": "X",
    "ProcedureCodeSequence": "X", "RequestedProcedureDescription": "X",
    "PerformedProcedureStepDescription": "X", "PerformedProcedureStepID": "X",
    "PerformedProcedureStepStartDate": "X", "PerformedProcedureStepStartTime": "X",
    "ScheduledProcedureStepStartDate": "X", "ScheduledProcedureStepEndDate": "X",
    "PlacerOrderNumberImagingServiceRequest": "X", "FillerOrderNumberImagingServiceRequest": "X",
    "ImageComments": "X", "TextComments": "X", "DerivationDescription": "X",
    "ContentCreatorName": "Z", "ContentDate": "D", "ContentTime": "D",
    "OverlayDate": "X", "OverlayTime": "X", "CurveDate": "X", "CurveTime": "X",
    "PerformedProcedureStepEndDate": "X", "PerformedProcedureStepEndTime": "X",
    "RequestedProcedureID": "X", "ScheduledProcedureStepID": "X", "StudyComments": "X",
    # equipment and place (device identity is retained: it names the software, not a person)
    "InstitutionName": "X", "InstitutionAddress": "X", "InstitutionalDepartmentName": "X",
    "StationName": "X",
    # SR document general
    "VerifyingObserverName": "D", "VerifyingOrganization": "D", "VerificationDateTime": "D",
    "VerifyingObserverIdentificationCodeSequence": "Z", "PersonIdentificationCodeSequence": "X",
    "AuthorObserverSequence": "X", "ParticipantSequence": "X", "CustodialOrganizationSequence": "X",
    "ObservationDateTime": "X",
    # clean structured content: person names and free text inside the SR content tree
    "PersonName": "D", "DateTime": "D", "Date": "D", "Time": "D",
    # contributing equipment, timing and the rest of Table E.1-1 that the source CT can carry
    "ContributionDateTime": "X", "ContributionDescription": "X", "TimezoneOffsetFromUTC": "X",
    "AcquisitionComments": "X", "DeviceDescription": "X", "DetectorID": "X", "ProtocolName": "X",
    "RequestedProcedureComments": "X", "ReasonForStudy": "X", "ReasonForTheRequestedProcedure": "X",
    "PatientState": "X", "PatientTransportArrangements": "X", "MedicalAlerts": "X", "Allergies": "X",
    "SpecialNeeds": "X", "VisitComments": "X", "CurrentPatientLocation": "X",
    "InstitutionCodeSequence": "X", "InstitutionalDepartmentTypeCodeSequence": "X",
    "ReferringPhysicianAddress": "X", "ReferringPhysicianTelephoneNumbers": "X",
    "ReferringPhysicianIdentificationSequence": "X", "PhysiciansOfRecordIdentificationSequence": "X",
    "PerformingPhysicianIdentificationSequence": "X", "PhysiciansReadingStudyIdentificationSequence": "X",
    "OperatorIdentificationSequence": "X", "ScheduledPerformingPhysicianName": "X",
    "PerformedStationName": "X", "PerformedLocation": "X", "ScheduledStationName": "X",
    "ScheduledProcedureStepLocation": "X", "DateOfLastCalibration": "X", "TimeOfLastCalibration": "X",
    "PatientBirthDateInAlternativeCalendar": "X",
    "PatientSexNeutered": "X", "PatientPrimaryLanguageCodeSequence": "X", "PatientTelecomInformation": "X",
    "StudyIDIssuer": "X", "IssuerOfAdmissionID": "X", "ServiceEpisodeID": "X",
    "ServiceEpisodeDescription": "X", "OriginalAttributesSequence": "X", "ModifiedAttributesSequence": "X",
    "DigitalSignaturesSequence": "X", "ContentCreatorIdentificationCodeSequence": "X",
    "OverlayComments": "X", "FrameComments": "X", "IconImageSequence": "X", "TopicTitle": "X",
    "TopicSubject": "X", "TopicAuthor": "X", "TopicKeywords": "X",
    "SeriesDescriptionCodeSequence": "X", "StudyDescriptionCodeSequence": "X",
}

#: DCM concept codes of SR TEXT items whose value can identify someone (cleaned with action D);
#: the other TEXT items NoduleLens writes name the tracking id, the software and the model
CLEAN_TEXT_CONCEPTS = frozenset({
    "121009",  # Person Observer's Organization Name
    "121017",  # Device Observer Physical Location During Observation
})
#: NoduleLens' own (99NDLNS) TEXT concepts that hold dates: the exam's comparison names the prior's date
CLEAN_PRIVATE_TEXT_CONCEPTS = frozenset({"COMPARE"})

#: dummy values for action D, by VR
DUMMY: dict[str, str] = {
    "PN": "Anonymous^Observer", "LO": "REMOVED", "SH": "REMOVED", "UT": "REMOVED", "ST": "REMOVED",
    "LT": "REMOVED", "DA": "19000101", "TM": "000000", "DT": "19000101000000",
}

#: UI attributes that are never remapped (they name standards, not instances)
KEEP_UIDS = frozenset({
    "SOPClassUID", "ReferencedSOPClassUID", "MediaStorageSOPClassUID", "TransferSyntaxUID",
    "ImplementationClassUID", "CodingSchemeUID", "ContextUID", "MappingResourceUID",
    "ReferencedSOPClassUIDInFile", "ReferencedTransferSyntaxUIDInFile", "SpecificCharacterSet",
})

#: DCM codes (CID 7050) of the profile and options applied
METHOD_CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113104", "Clean Structured Content Option"),
    ("113109", "Retain Device Identity Option"),
)
