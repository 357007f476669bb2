"""The stored-query baseline: registry objects of three patients, written straight into the tables (no
ITI-42), with what every query and parameter needs to find or miss something.

Patient P1 (sample_data.PATIENT_ID):
  SS1 (source SOURCE_ID, 20240115110000, content type 1, author Mustermann)
      D1  BEF/BILD, mime format, KHS, RADI, conf N, event E200, Mustermann, created 20240115103000,
          service 20240115090000-20240115093000; Deprecated (replaced by D3)
      D2  BIL/BILD, KOS format, KHS, RADI, conf N+R, events E200+CT, Schmidt and O*Neil, created 20230601,
          service 2023060108-2023060109, referenceIdList ACC-1 (accession) + ORD-7 (order)
      F1  Folder, code ECR, lastUpdateTime 20240115110000, holding D1
      A_SS1_D1, A_SS1_D2, A_SS1_F1, A_F1_D1, A_SS1_A_F1_D1 (HasMember)
  SS2 (20240201130000, content type 2, author Schmidt)
      D3  replaces D1 (RPLC), created 20240201120000, conf R, no events, no serviceStartTime,
          referenceIdList ACC-1
      A_SS2_D3, A_D3_RPLC_D1
  SS3 (20240301090000)
      D4  On-Demand DocumentEntry, created 20240301
      F2  Folder, codes ECR + PAT, lastUpdateTime 20240301090000, Deprecated
      A_SS3_D4, A_SS3_F2
Patient P2: SS4 with D5 (A_SS4_D5).
Patient P3, merged into P1: SS5 with D6 (A_SS5_D6), still stored under P3.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from sample_data import (
    CS_CLASS,
    CS_CONFIDENTIALITY,
    CS_CONTENT_TYPE,
    CS_EVENT_CONTEXT,
    CS_FOLDER,
    CS_FORMAT_IHE,
    PATIENT_ID,
    REPOSITORY_UNIQUE_ID,
    ROOT,
    author,
    document_entry,
    folder,
    submission_set,
)
from sqlalchemy import Connection

from registry import store as db
from registry.rows import object_row
from xds.hl7v2 import CX, XCN
from xds.model import Association, Code, DocumentEntry, Folder, SubmissionSet
from xds.vocabulary import (
    CODING_SCHEME_DICOM,
    FORMAT_CODE_DICOM_KOS,
    OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY,
    AssociationType,
    Status,
    SubmissionSetStatus,
)

P1 = PATIENT_ID
P2 = PATIENT_ID.replace("PAT-1000", "PAT-2000")
P3 = PATIENT_ID.replace("PAT-1000", "PAT-3000")
ACCESSION = "ACC-1^^^&1.2.276.0.7230010.3.1.99&ISO^urn:ihe:iti:xds:2013:accession"
ORDER = "ORD-7^^^&1.2.276.0.7230010.3.1.98&ISO^urn:ihe:iti:xds:2013:order"

APPROVED = Status.APPROVED.value
DEPRECATED = Status.DEPRECATED.value
SUBMITTED = Status.SUBMITTED.value

N = Code("N", CS_CONFIDENTIALITY, "normal")
R = Code("R", CS_CONFIDENTIALITY, "restricted")
E200 = Code("E200", CS_EVENT_CONTEXT, "stationär")
CT = Code("CT", CODING_SCHEME_DICOM, "Computed Tomography")
BIL = Code("BIL", CS_CLASS, "Bilddaten")
KOS_FORMAT = Code(FORMAT_CODE_DICOM_KOS, CS_FORMAT_IHE, "DICOM Manifest")
ECR = Code("ECR", CS_FOLDER, "Elektronische Fallakte")
PAT = Code("PAT", CS_FOLDER, "Patientenakte")
CONTENT_2 = Code("2", CS_CONTENT_TYPE, "Konsil")


def uid(name: str) -> str:
    """The entryUUID the baseline gives object ``name``."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'xds-query-baseline/' + name)}"


NAMES: dict[str, str] = {}  # entryUUID -> name, filled by _named


def _named(name: str) -> str:
    NAMES[uid(name)] = name
    return uid(name)


def unique_id(name: str) -> str:
    return f"{ROOT}.77.{sum(map(ord, name))}.{len(name)}"


def _person(text: str):  # noqa: ANN202 - an Author
    return replace(author(), person=XCN.parse(text))


def _entry(name: str, pid: str, **changes: object) -> DocumentEntry:
    base = replace(
        document_entry(_named(name), unique_id(name)),
        patient_id=CX.parse(pid),
        hash="da39a3ee5e6b4b0d3255bfef95601890afd80709",
        size=0,
        repository_unique_id=REPOSITORY_UNIQUE_ID,
        availability_status=APPROVED,
        logical_id=uid(name),
        version="1",
    )
    return replace(base, **changes)


def _set(name: str, pid: str, **changes: object) -> SubmissionSet:
    base = replace(
        submission_set(_named(name)),
        unique_id=unique_id(name),
        patient_id=CX.parse(pid),
        availability_status=APPROVED,
    )
    return replace(base, **changes)


def _folder(name: str, pid: str, **changes: object) -> Folder:
    base = replace(
        folder(_named(name)),
        unique_id=unique_id(name),
        patient_id=CX.parse(pid),
        availability_status=APPROVED,
        last_update_time="20240115110000",
        logical_id=uid(name),
        version="1",
    )
    return replace(base, **changes)


def _assoc(name: str, source: str, target: str, kind: str = AssociationType.HAS_MEMBER) -> Association:
    # ITI TF-3 4.2.2.1.2: SubmissionSetStatus on the SubmissionSet-to-DocumentEntry HasMember only
    ss_status = SubmissionSetStatus.ORIGINAL if source.startswith("SS") and target.startswith("D") else None
    return Association(
        _named(name),
        kind,
        uid(source),
        uid(target),
        submission_set_status=ss_status,
        availability_status=APPROVED,
    )


def objects() -> list:
    """Every baseline object in registration order."""
    d1 = _entry("D1", P1, availability_status=DEPRECATED)
    d2 = _entry(
        "D2",
        P1,
        class_code=BIL,
        format_code=KOS_FORMAT,
        confidentiality_codes=(N, R),
        event_codes=(E200, CT),
        authors=(_person("^Schmidt^Hans"), _person("^O*Neil^[Sean]")),
        creation_time="20230601",
        service_start_time="2023060108",
        service_stop_time="2023060109",
        reference_ids=(CX.parse(ACCESSION), CX.parse(ORDER)),
    )
    d3 = _entry(
        "D3",
        P1,
        creation_time="20240201120000",
        confidentiality_codes=(R,),
        event_codes=(),
        service_start_time=None,
        reference_ids=(CX.parse(ACCESSION),),
    )
    d4 = _entry(
        "D4",
        P1,
        object_type=OBJECT_TYPE_ON_DEMAND_DOCUMENT_ENTRY,
        creation_time="20240301",
        hash=None,
        size=None,
    )
    return [
        _set("SS1", P1),
        d1,
        d2,
        _folder("F1", P1),
        _assoc("A_SS1_D1", "SS1", "D1"),
        _assoc("A_SS1_D2", "SS1", "D2"),
        _assoc("A_SS1_F1", "SS1", "F1"),
        _assoc("A_F1_D1", "F1", "D1"),
        _assoc("A_SS1_A_F1_D1", "SS1", "A_F1_D1"),
        _set(
            "SS2",
            P1,
            submission_time="20240201130000",
            content_type_code=CONTENT_2,
            authors=(_person("^Schmidt^Hans"),),
        ),
        d3,
        _assoc("A_SS2_D3", "SS2", "D3"),
        _assoc("A_D3_RPLC_D1", "D3", "D1", AssociationType.RPLC),
        _set("SS3", P1, submission_time="20240301090000"),
        d4,
        _folder(
            "F2", P1, codes=(ECR, PAT), last_update_time="20240301090000", availability_status=DEPRECATED
        ),
        _assoc("A_SS3_D4", "SS3", "D4"),
        _assoc("A_SS3_F2", "SS3", "F2"),
        _set("SS4", P2),
        _entry("D5", P2),
        _assoc("A_SS4_D5", "SS4", "D5"),
        _set("SS5", P3),
        _entry("D6", P3),
        _assoc("A_SS5_D6", "SS5", "D6"),
    ]


def load(conn: Connection) -> None:
    for pid in (P1, P2):
        db.save_patient(conn, pid, name="DOE^JANE", birth_date="19700101", sex="F")
    db.mark_merged(conn, P3, P1)
    db.insert_objects(conn, [object_row(obj) for obj in objects()])
