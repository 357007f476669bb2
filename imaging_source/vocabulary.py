"""Vocabulary of the Imaging Document Source that xds.vocabulary does not hold (DICOM UIDs and codes).

UIDs and codes are facts of DICOM PS3.6 / PS3.16 and the IHE-DE value sets; they are named here once.
"""

from __future__ import annotations

import uuid

# DICOM PS3.6 Annex A: the Key Object Selection Document Storage SOP Class
KOS_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.88.59"
# DICOM PS3.6 Annex A: transfer syntaxes we name
IMPLICIT_VR_LE = "1.2.840.10008.1.2"
EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"
DEFLATED_EXPLICIT_VR_LE = "1.2.840.10008.1.2.1.99"
EXPLICIT_VR_BE = "1.2.840.10008.1.2.2"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"
JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"
UNCOMPRESSED = (EXPLICIT_VR_LE, IMPLICIT_VR_LE, EXPLICIT_VR_BE)

# PS3.16 CID 7010 / RAD TF-3 4.68.4.1.2.1: the document title of an XDS-I.b manifest
MANIFEST_TITLE = ("113030", "DCM", "Manifest")
# PS3.16 TID 2010 Key Object Selection
KOS_TEMPLATE = ("2010", "DCMR")

# coding schemes (HL7 OIDs of the code systems; ITI TF-3 4.2.3.1.2 codingScheme)
OID_DCM = "1.2.840.10008.2.16.4"
OID_SNOMED_CT = "2.16.840.1.113883.6.96"
SCHEME_OIDS = {"DCM": OID_DCM, "SCT": OID_SNOMED_CT, "SRT": OID_SNOMED_CT}

# IHE-DE value sets (xds/data/ihe-de-value-sets.tsv): class BIL, type BILD, formatCode scheme
IHE_DE_CLASS = ("BIL", "1.3.6.1.4.1.19376.3.276.1.5.8", "Bilddaten")
IHE_DE_TYPE = ("BILD", "1.3.6.1.4.1.19376.3.276.1.5.9", "Ergebnisse bildgebender Diagnostik")
FORMAT_CODE_SCHEME = "1.3.6.1.4.1.19376.1.2.3"
FORMAT_CODE_DISPLAY = "DICOM Manifest (DICOM KOS SOP Class UID)"
DEFAULT_FACILITY = ("KHS", "1.3.6.1.4.1.19376.3.276.1.5.2", "Krankenhaus")
DEFAULT_PRACTICE = ("RADI", "1.3.6.1.4.1.19376.3.276.1.5.4", "Radiologie")
DEFAULT_CONFIDENTIALITY = ("N", "2.16.840.1.113883.5.25", "normal")
DEFAULT_CONTENT_TYPE = ("1", "1.3.6.1.4.1.19376.3.276.1.5.12", "Patientenkontakt")

# ISO/IEC 9834-8: an OID under 2.25 from a UUID; the default uniqueId of this Imaging Document Source
# (RetrieveLocationUID and RAD-69 RepositoryUniqueId), stable across installations until configured
DEFAULT_SOURCE_UID = "2.25." + str(
    uuid.uuid5(uuid.NAMESPACE_URL, "urn:xds-affinity-domain:imaging-source").int
)

# PS3.7 D.3.3.2: this implementation's class UID and version name (A-ASSOCIATE, PS3.10 File Meta Information)
IMPLEMENTATION_CLASS_UID = "2.25." + str(
    uuid.uuid5(uuid.NAMESPACE_URL, "urn:xds-affinity-domain:dicom-implementation").int
)
IMPLEMENTATION_VERSION = "XDS_AFFINITY_1"


# UIDs this source creates (KOS instance, series, submission set): 2.25.<uuid4>
def new_uid() -> str:
    return "2.25." + str(uuid.uuid4().int)


# PS3.16 Annex L (CID 4031 correspondence): Body Part Examined -> SNOMED CT anatomic region
BODY_PARTS = {
    "ABDOMEN": ("818981001", "Abdomen"),
    "ANKLE": ("70258002", "Ankle joint"),
    "BRAIN": ("12738006", "Brain"),
    "BREAST": ("76752008", "Breast"),
    "CHEST": ("43799004", "Chest"),
    "CSPINE": ("122494005", "Cervical spine"),
    "ELBOW": ("127949000", "Elbow"),
    "FOOT": ("56459004", "Foot"),
    "HAND": ("85562004", "Hand"),
    "HEAD": ("69536005", "Head"),
    "HEART": ("80891009", "Heart"),
    "HIP": ("29836001", "Hip"),
    "KNEE": ("72696002", "Knee"),
    "LSPINE": ("122496007", "Lumbar spine"),
    "NECK": ("45048000", "Neck"),
    "PELVIS": ("816092008", "Pelvis"),
    "SHOULDER": ("16982005", "Shoulder"),
    "SKULL": ("89546000", "Skull"),
    "TSPINE": ("122495006", "Thoracic spine"),
    "WRIST": ("74670003", "Wrist joint"),
}

# PS3.4 Table B.2-1 / C.4.x: DIMSE status codes this SCP answers with
STATUS_SUCCESS = 0x0000
STATUS_OUT_OF_RESOURCES = 0xA700
STATUS_DATASET_MISMATCH = 0xA900
STATUS_CANNOT_UNDERSTAND = 0xC000
STATUS_MOVE_DESTINATION_UNKNOWN = 0xA801
STATUS_IDENTIFIER_MISMATCH = 0xA900
STATUS_UNABLE_TO_PROCESS = 0xC001
STATUS_PENDING = 0xFF00
STATUS_CANCEL = 0xFE00
