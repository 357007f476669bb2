"""The one vocabulary of XDS.b / XDS-I.b metadata (ITI TF-3 4.2.5, 4.2.3; ITI TF-2a 3.18.4.1.2.3.7).

Every UUID, URN, slot name and namespace the project uses is defined here and nowhere else.
"""

from __future__ import annotations

from enum import StrEnum

# --- XML namespaces (ebRIM/ebRS 3.0, IHE, SOAP 1.2, WS-Addressing 1.0, XOP) -------------------------
NS_RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
NS_RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
NS_LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
NS_QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
NS_XDSB = "urn:ihe:iti:xds-b:2007"
NS_XDSI = "urn:ihe:rad:xdsi-b:2009"
NS_SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NS_SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"  # only to recognise and refuse it
NS_WSA = "http://www.w3.org/2005/08/addressing"
NS_XOP = "http://www.w3.org/2004/08/xop/include"
NS_XMIME = "http://www.w3.org/2005/05/xmlmime"
# ours: the element that carries a fault's machine-readable reason inside env:Detail
NS_XDS_FAULT = "urn:xds-affinity-domain:soap-fault"

NSMAP = {
    "rim": NS_RIM,
    "rs": NS_RS,
    "lcm": NS_LCM,
    "query": NS_QUERY,
    "xdsb": NS_XDSB,
    "xdsi": NS_XDSI,
    "soap": NS_SOAP12,
    "wsa": NS_WSA,
    "xop": NS_XOP,
}

# --- objectType (ITI TF-3 4.2.5.1, 4.2.5.2) ------------------------------------------------------------
OBJECT_TYPE_STABLE_DOCUMENT_ENTRY = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"
DOCUMENT_ENTRY_OBJECT_TYPES = frozenset(
    {OBJECT_TYPE_STABLE_DOCUMENT_ENTRY, OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY}
)

_RIM_OBJECT_TYPE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:"
OBJECT_TYPE_REGISTRY_PACKAGE = _RIM_OBJECT_TYPE + "RegistryPackage"
OBJECT_TYPE_ASSOCIATION = _RIM_OBJECT_TYPE + "Association"
OBJECT_TYPE_CLASSIFICATION = _RIM_OBJECT_TYPE + "Classification"
OBJECT_TYPE_EXTERNAL_IDENTIFIER = _RIM_OBJECT_TYPE + "ExternalIdentifier"
OBJECT_TYPE_EXTRINSIC_OBJECT = _RIM_OBJECT_TYPE + "ExtrinsicObject"

# --- Classification nodes that mark a RegistryPackage (ITI TF-3 4.2.5.2) -------------------------------
CLASSIFICATION_NODE_SUBMISSION_SET = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
CLASSIFICATION_NODE_FOLDER = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"

# --- Classification schemes (ITI TF-3 Table 4.2.5-1 and 4.2.3.x) ------------------------------------------
DE_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
DE_CLASS_CODE = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
DE_CONFIDENTIALITY_CODE = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
DE_EVENT_CODE_LIST = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
DE_FORMAT_CODE = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
DE_HEALTHCARE_FACILITY_TYPE_CODE = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
DE_PRACTICE_SETTING_CODE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
DE_TYPE_CODE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
DE_LIMITED_METADATA = "urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85"

SS_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
SS_CONTENT_TYPE_CODE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
SS_LIMITED_METADATA = "urn:uuid:5003a9db-8d8d-49e6-bf0c-990e34ac7707"

FOLDER_CODE_LIST = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5"
FOLDER_LIMITED_METADATA = "urn:uuid:2c144a76-29a9-4b7c-af54-b25409fe7d03"

# ITI TF-3 4.2.2.2 associationDocumentation (RPLC/XFRM... may carry it, HasMember may not)
ASSOCIATION_DOCUMENTATION = "urn:uuid:abd807a3-4432-4053-87b4-fd82c643d1f3"

# --- External identifiers (ITI TF-3 Table 4.2.5-1) -----------------------------------------------------
DE_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
DE_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SS_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
SS_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SS_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
FOLDER_PATIENT_ID = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a"
FOLDER_UNIQUE_ID = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"

# Localized names the framework gives the external identifiers (ITI TF-3 4.2.3.2.12 and friends)
EXTERNAL_IDENTIFIER_NAMES = {
    DE_PATIENT_ID: "XDSDocumentEntry.patientId",
    DE_UNIQUE_ID: "XDSDocumentEntry.uniqueId",
    SS_PATIENT_ID: "XDSSubmissionSet.patientId",
    SS_SOURCE_ID: "XDSSubmissionSet.sourceId",
    SS_UNIQUE_ID: "XDSSubmissionSet.uniqueId",
    FOLDER_PATIENT_ID: "XDSFolder.patientId",
    FOLDER_UNIQUE_ID: "XDSFolder.uniqueId",
}


class Slot(StrEnum):
    """Slot names of ITI TF-3 4.2.3 (DocumentEntry, SubmissionSet, Folder, Association, author)."""

    CREATION_TIME = "creationTime"
    HASH = "hash"
    LANGUAGE_CODE = "languageCode"
    LEGAL_AUTHENTICATOR = "legalAuthenticator"
    SERVICE_START_TIME = "serviceStartTime"
    SERVICE_STOP_TIME = "serviceStopTime"
    SIZE = "size"
    SOURCE_PATIENT_ID = "sourcePatientId"
    SOURCE_PATIENT_INFO = "sourcePatientInfo"
    REPOSITORY_UNIQUE_ID = "repositoryUniqueId"
    URI = "URI"
    DOCUMENT_AVAILABILITY = "documentAvailability"
    REFERENCE_ID_LIST = "urn:ihe:iti:xds:2013:referenceIdList"
    SUBMISSION_TIME = "submissionTime"
    INTENDED_RECIPIENT = "intendedRecipient"
    LAST_UPDATE_TIME = "lastUpdateTime"
    SUBMISSION_SET_STATUS = "SubmissionSetStatus"
    PREVIOUS_VERSION = "PreviousVersion"
    ORIGINAL_STATUS = "OriginalStatus"
    NEW_STATUS = "NewStatus"
    AUTHOR_PERSON = "authorPerson"
    AUTHOR_INSTITUTION = "authorInstitution"
    AUTHOR_ROLE = "authorRole"
    AUTHOR_SPECIALTY = "authorSpecialty"
    AUTHOR_TELECOMMUNICATION = "authorTelecommunication"
    CODING_SCHEME = "codingScheme"


AUTHOR_SLOTS = frozenset(
    {
        Slot.AUTHOR_PERSON,
        Slot.AUTHOR_INSTITUTION,
        Slot.AUTHOR_ROLE,
        Slot.AUTHOR_SPECIALTY,
        Slot.AUTHOR_TELECOMMUNICATION,
    }
)


# --- Status (ITI TF-3 4.2.3.2.2, 4.1.4) ----------------------------------------------------------------
class Status(StrEnum):
    APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
    DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
    SUBMITTED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Submitted"


class DocumentAvailability(StrEnum):
    ONLINE = "urn:ihe:iti:2010:DocumentAvailability:Online"
    OFFLINE = "urn:ihe:iti:2010:DocumentAvailability:Offline"


class ResponseStatus(StrEnum):
    """RegistryResponse/@status (ITI TF-3 4.2.4.2, ITI TF-2a 3.18.4.1.3)."""

    SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
    FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
    PARTIAL_SUCCESS = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"


class Severity(StrEnum):
    ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
    WARNING = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning"


# --- Association types (ITI TF-3 4.2.2) ------------------------------------------------------------------
class AssociationType(StrEnum):
    HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
    RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
    XFRM = "urn:ihe:iti:2007:AssociationType:XFRM"
    APND = "urn:ihe:iti:2007:AssociationType:APND"
    XFRM_RPLC = "urn:ihe:iti:2007:AssociationType:XFRM_RPLC"
    SIGNS = "urn:ihe:iti:2007:AssociationType:signs"
    IS_SNAPSHOT_OF = "urn:ihe:iti:2010:AssociationType:IsSnapshotOf"
    UPDATE_AVAILABILITY_STATUS = "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus"
    SUBMIT_ASSOCIATION = "urn:ihe:iti:2010:AssociationType:SubmitAssociation"


# ITI TF-3 4.2.2.2: the document relationships (everything but HasMember)
DOCUMENT_RELATIONSHIPS = frozenset(
    {
        AssociationType.RPLC,
        AssociationType.XFRM,
        AssociationType.APND,
        AssociationType.XFRM_RPLC,
        AssociationType.SIGNS,
        AssociationType.IS_SNAPSHOT_OF,
    }
)
REPLACING_RELATIONSHIPS = frozenset({AssociationType.RPLC, AssociationType.XFRM_RPLC})


class SubmissionSetStatus(StrEnum):
    """Slot SubmissionSetStatus of a SubmissionSet-to-DocumentEntry HasMember (ITI TF-3 4.2.2.1.2)."""

    ORIGINAL = "Original"
    REFERENCE = "Reference"


# --- referenceIdList ID types (ITI TF-3 Table 4.2.3.2-1 / 4.2.3.2.28) -------------------------------------
class ReferenceIdType(StrEnum):
    UNIQUE_ID = "urn:ihe:iti:xds:2013:uniqueId"
    ACCESSION = "urn:ihe:iti:xds:2013:accession"
    REFERRAL = "urn:ihe:iti:xds:2013:referral"
    ORDER = "urn:ihe:iti:xds:2013:order"
    WORKFLOW_INSTANCE_ID = "urn:ihe:iti:xdw:2013:workflowInstanceId"
    ENCOUNTER_ID = "urn:ihe:iti:xds:2015:encounterId"
    STUDY_INSTANCE_UID = "urn:ihe:iti:xds:2016:studyInstanceUID"


# --- Stored queries (ITI TF-2a 3.18.4.1.2.3.7, Table 3.18.4.1.2.3.7-1) ------------------------------------
class StoredQuery(StrEnum):
    FIND_DOCUMENTS = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
    FIND_DOCUMENTS_BY_REFERENCE_ID = "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492"
    FIND_SUBMISSION_SETS = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9"
    FIND_FOLDERS = "urn:uuid:958f3006-baad-4929-a4de-ff1114824431"
    GET_ALL = "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3"
    GET_DOCUMENTS = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
    GET_FOLDERS = "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4"
    GET_ASSOCIATIONS = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
    GET_DOCUMENTS_AND_ASSOCIATIONS = "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a"
    GET_SUBMISSION_SETS = "urn:uuid:51224314-5390-4169-9b91-b1980040715a"
    GET_SUBMISSION_SET_AND_CONTENTS = "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83"
    GET_FOLDER_AND_CONTENTS = "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7"
    GET_FOLDERS_FOR_DOCUMENT = "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578"
    GET_RELATED_DOCUMENTS = "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6"


class ReturnType(StrEnum):
    """AdhocQueryRequest/ResponseOption/@returnType (ITI TF-2a 3.18.4.1.2.1)."""

    LEAF_CLASS = "LeafClass"
    OBJECT_REF = "ObjectRef"


# --- Code systems that the transactions name ----------------------------------------------------------
FORMAT_CODE_DICOM_KOS = "urn:oid:1.2.840.10008.5.1.4.1.1.88.59"
CODING_SCHEME_DICOM = "1.2.840.10008.2.16.4"
CODING_SCHEME_DICOM_MODALITY = "1.2.840.10008.6.1.19"
MIME_TYPE_DICOM = "application/dicom"


# --- Audit records (DICOM PS3.15 A.5, ITI TF-2a 3.20.7): coded values as (code, codeSystemName, display) ---
AUDIT_EVENT_EXPORT = ("110106", "DCM", "Export")
AUDIT_EVENT_IMPORT = ("110107", "DCM", "Import")
AUDIT_EVENT_QUERY = ("110112", "DCM", "Query")
AUDIT_EVENT_PATIENT_RECORD = ("110110", "DCM", "Patient Record")
AUDIT_EVENT_INSTANCES_TRANSFERRED = ("110104", "DCM", "DICOM Instances Transferred")
AUDIT_EVENT_APPLICATION_ACTIVITY = ("110100", "DCM", "Application Activity")
AUDIT_ROLE_SOURCE = ("110153", "DCM", "Source Role ID")
AUDIT_ROLE_DESTINATION = ("110152", "DCM", "Destination Role ID")
AUDIT_ID_PATIENT_NUMBER = ("2", "RFC-3881", "Patient Number")
AUDIT_ID_REPORT_NUMBER = ("9", "RFC-3881", "Report Number")
AUDIT_ID_SUBMISSION_SET = (
    CLASSIFICATION_NODE_SUBMISSION_SET, "IHE XDS Metadata", "submission set classificationNode"
)
AUDIT_ID_STUDY_INSTANCE_UID = ("110180", "DCM", "Study Instance UID")
AUDIT_SOURCE_APPLICATION_SERVER = ("4", "DCM", "Application Server")  # PS3.15 A.5.1.1 / RFC 3881 5.4.2
AUDIT_EVENT_BEGIN_TRANSFERRING = ("110102", "DCM", "Begin Transferring DICOM Instances")
AUDIT_ID_SOP_CLASS_UID = ("110181", "DCM", "SOP Class UID")  # PS3.15 A.5.3.10: the SOP Class queried
# EventTypeCode of the DICOM and DICOMweb transactions of the Imaging Document Source (RAD TF-2/TF-3)
AUDIT_TX_RAD_8 = ("RAD-8", "IHE Transactions", "Modality Images Stored")
AUDIT_TX_RAD_14 = ("RAD-14", "IHE Transactions", "Query Images")
AUDIT_TX_RAD_16 = ("RAD-16", "IHE Transactions", "Retrieve Images")
AUDIT_TX_RAD_55 = ("RAD-55", "IHE Transactions", "WADO Retrieve")
AUDIT_TX_RAD_107 = ("RAD-107", "IHE Transactions", "WADO-RS Retrieve")
