"""The parameters of the 14 stored queries (ITI TF-2a 3.18.4.1.2.3.7.1 - 3.18.4.1.2.3.7.14, plus the
$XDSDocumentEntryLogicalID / $XDSFolderLogicalID / $MetadataLevel parameters of the XDS Metadata Update
supplement, which NIST's GetDocuments template sends)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from xds.vocabulary import StoredQuery


class Kind(Enum):
    PATIENT_ID = "patient id"  # 'id^^^&OID&ISO'
    STRING = "string"  # 'value'
    STRING_LIST = "string list"  # ('a','b')
    STATUS_LIST = "status list"  # ('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')
    OBJECT_TYPE_LIST = "objectType list"
    ASSOCIATION_TYPE_LIST = "associationType list"
    CODE_LIST = "code list"  # ('code^^scheme', ...)
    TIME = "time"  # 20040101 (DTM, no quotes)
    NUMBER = "number"


@dataclass(frozen=True, slots=True)
class ParamSpec:
    name: str
    kind: Kind
    required: bool = False
    # ITI TF-2a 3.18.4.1.2.3.5: codes (and referenceIdList values) may carry AND semantics across several
    # Slots of the same name
    and_or: bool = False

    @property
    def multiple(self) -> bool:
        return self.kind not in (Kind.PATIENT_ID, Kind.STRING, Kind.TIME, Kind.NUMBER)


@dataclass(frozen=True, slots=True)
class QuerySpec:
    query: StoredQuery
    params: tuple[ParamSpec, ...]
    # "R*" parameters: exactly one of each group must be given (ITI TF-2a 3.18.4.1.2.3.7.5 ff.)
    one_of: tuple[tuple[str, ...], ...] = ()

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)


def _p(name: str, kind: Kind, required: bool = False, and_or: bool = False) -> ParamSpec:
    return ParamSpec(name, kind, required, and_or)


_DE = "$XDSDocumentEntry"
_HOME = _p("$homeCommunityId", Kind.STRING)
_METADATA_LEVEL = _p("$MetadataLevel", Kind.NUMBER)
_DE_TYPE = _p(f"{_DE}Type", Kind.OBJECT_TYPE_LIST)
_DE_FORMAT = _p(f"{_DE}FormatCode", Kind.CODE_LIST)
_DE_CONFIDENTIALITY = _p(f"{_DE}ConfidentialityCode", Kind.CODE_LIST, and_or=True)

# ITI TF-2a 3.18.4.1.2.3.7.1 FindDocuments
_FIND_DOCUMENTS = (
    _p(f"{_DE}PatientId", Kind.PATIENT_ID, required=True),
    _p(f"{_DE}ClassCode", Kind.CODE_LIST),
    _p(f"{_DE}TypeCode", Kind.CODE_LIST),
    _p(f"{_DE}PracticeSettingCode", Kind.CODE_LIST),
    _p(f"{_DE}CreationTimeFrom", Kind.TIME),
    _p(f"{_DE}CreationTimeTo", Kind.TIME),
    _p(f"{_DE}ServiceStartTimeFrom", Kind.TIME),
    _p(f"{_DE}ServiceStartTimeTo", Kind.TIME),
    _p(f"{_DE}ServiceStopTimeFrom", Kind.TIME),
    _p(f"{_DE}ServiceStopTimeTo", Kind.TIME),
    _p(f"{_DE}HealthcareFacilityTypeCode", Kind.CODE_LIST),
    _p(f"{_DE}EventCodeList", Kind.CODE_LIST, and_or=True),
    _DE_CONFIDENTIALITY,
    _p(f"{_DE}AuthorPerson", Kind.STRING_LIST),
    _DE_FORMAT,
    _p(f"{_DE}Status", Kind.STATUS_LIST, required=True),
    _DE_TYPE,
)
_DE_BY_ID = (_p(f"{_DE}EntryUUID", Kind.STRING), _p(f"{_DE}UniqueId", Kind.STRING), _HOME)
_DE_BY_ID_GROUP = ((f"{_DE}EntryUUID", f"{_DE}UniqueId"),)
_FOLDER_BY_ID = (_p("$XDSFolderEntryUUID", Kind.STRING), _p("$XDSFolderUniqueId", Kind.STRING), _HOME)
_FOLDER_BY_ID_GROUP = (("$XDSFolderEntryUUID", "$XDSFolderUniqueId"),)

QUERIES: dict[StoredQuery, QuerySpec] = {
    q.query: q
    for q in (
        QuerySpec(StoredQuery.FIND_DOCUMENTS, _FIND_DOCUMENTS),
        # ITI TF-2a 3.18.4.1.2.3.7.14 FindDocumentsByReferenceId
        QuerySpec(
            StoredQuery.FIND_DOCUMENTS_BY_REFERENCE_ID,
            (*_FIND_DOCUMENTS, _p(f"{_DE}ReferenceIdList", Kind.STRING_LIST, required=True, and_or=True)),
        ),
        # ITI TF-2a 3.18.4.1.2.3.7.2 FindSubmissionSets
        QuerySpec(
            StoredQuery.FIND_SUBMISSION_SETS,
            (
                _p("$XDSSubmissionSetPatientId", Kind.PATIENT_ID, required=True),
                _p("$XDSSubmissionSetSourceId", Kind.STRING_LIST),
                _p("$XDSSubmissionSetSubmissionTimeFrom", Kind.TIME),
                _p("$XDSSubmissionSetSubmissionTimeTo", Kind.TIME),
                _p("$XDSSubmissionSetAuthorPerson", Kind.STRING),
                _p("$XDSSubmissionSetContentType", Kind.CODE_LIST),
                _p("$XDSSubmissionSetStatus", Kind.STATUS_LIST, required=True),
            ),
        ),
        # ITI TF-2a 3.18.4.1.2.3.7.3 FindFolders
        QuerySpec(
            StoredQuery.FIND_FOLDERS,
            (
                _p("$XDSFolderPatientId", Kind.PATIENT_ID, required=True),
                _p("$XDSFolderLastUpdateTimeFrom", Kind.TIME),
                _p("$XDSFolderLastUpdateTimeTo", Kind.TIME),
                _p("$XDSFolderCodeList", Kind.CODE_LIST, and_or=True),
                _p("$XDSFolderStatus", Kind.STATUS_LIST, required=True),
            ),
        ),
        # ITI TF-2a 3.18.4.1.2.3.7.4 GetAll
        QuerySpec(
            StoredQuery.GET_ALL,
            (
                _p("$patientId", Kind.PATIENT_ID, required=True),
                _p(f"{_DE}Status", Kind.STATUS_LIST, required=True),
                _p("$XDSSubmissionSetStatus", Kind.STATUS_LIST, required=True),
                _p("$XDSFolderStatus", Kind.STATUS_LIST, required=True),
                _DE_FORMAT,
                _DE_CONFIDENTIALITY,
                _DE_TYPE,
            ),
        ),
        # ITI TF-2a 3.18.4.1.2.3.7.5 GetDocuments (lists of ids; LogicalID + MetadataLevel: Metadata Update)
        QuerySpec(
            StoredQuery.GET_DOCUMENTS,
            (
                _p(f"{_DE}EntryUUID", Kind.STRING_LIST),
                _p(f"{_DE}UniqueId", Kind.STRING_LIST),
                _p(f"{_DE}LogicalID", Kind.STRING_LIST),
                _HOME,
                _METADATA_LEVEL,
            ),
            ((f"{_DE}EntryUUID", f"{_DE}UniqueId", f"{_DE}LogicalID"),),
        ),
        # ITI TF-2a 3.18.4.1.2.3.7.6 GetFolders
        QuerySpec(
            StoredQuery.GET_FOLDERS,
            (
                _p("$XDSFolderEntryUUID", Kind.STRING_LIST),
                _p("$XDSFolderUniqueId", Kind.STRING_LIST),
                _p("$XDSFolderLogicalID", Kind.STRING_LIST),
                _HOME,
                _METADATA_LEVEL,
            ),
            (("$XDSFolderEntryUUID", "$XDSFolderUniqueId", "$XDSFolderLogicalID"),),
        ),
        # ITI TF-2a 3.18.4.1.2.3.7.7 GetAssociations
        QuerySpec(
            StoredQuery.GET_ASSOCIATIONS,
            (_p("$uuid", Kind.STRING_LIST, required=True), _HOME, _METADATA_LEVEL),
        ),
        # ITI TF-2a 3.18.4.1.2.3.7.8 GetDocumentsAndAssociations
        QuerySpec(
            StoredQuery.GET_DOCUMENTS_AND_ASSOCIATIONS,
            (
                _p(f"{_DE}EntryUUID", Kind.STRING_LIST),
                _p(f"{_DE}UniqueId", Kind.STRING_LIST),
                _HOME,
                _METADATA_LEVEL,
            ),
            _DE_BY_ID_GROUP,
        ),
        # ITI TF-2a 3.18.4.1.2.3.7.9 GetSubmissionSets
        QuerySpec(StoredQuery.GET_SUBMISSION_SETS, (_p("$uuid", Kind.STRING_LIST, required=True), _HOME)),
        # ITI TF-2a 3.18.4.1.2.3.7.10 GetSubmissionSetAndContents
        QuerySpec(
            StoredQuery.GET_SUBMISSION_SET_AND_CONTENTS,
            (
                _p("$XDSSubmissionSetEntryUUID", Kind.STRING),
                _p("$XDSSubmissionSetUniqueId", Kind.STRING),
                _DE_FORMAT,
                _DE_CONFIDENTIALITY,
                _HOME,
                _DE_TYPE,
            ),
            (("$XDSSubmissionSetEntryUUID", "$XDSSubmissionSetUniqueId"),),
        ),
        # ITI TF-2a 3.18.4.1.2.3.7.11 GetFolderAndContents
        QuerySpec(
            StoredQuery.GET_FOLDER_AND_CONTENTS,
            (*_FOLDER_BY_ID, _DE_FORMAT, _DE_CONFIDENTIALITY, _DE_TYPE),
            _FOLDER_BY_ID_GROUP,
        ),
        # ITI TF-2a 3.18.4.1.2.3.7.12 GetFoldersForDocument
        QuerySpec(StoredQuery.GET_FOLDERS_FOR_DOCUMENT, _DE_BY_ID, _DE_BY_ID_GROUP),
        # ITI TF-2a 3.18.4.1.2.3.7.13 GetRelatedDocuments
        QuerySpec(
            StoredQuery.GET_RELATED_DOCUMENTS,
            (*_DE_BY_ID, _p("$AssociationTypes", Kind.ASSOCIATION_TYPE_LIST, required=True), _DE_TYPE),
            _DE_BY_ID_GROUP,
        ),
    )
}
