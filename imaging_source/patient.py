"""The patient identifiers of a manifest: the local ID from the DICOM header and the domain's XAD-PID.

RAD TF-3 4.68.4.1.2.3 / ITI TF-3 4.2.3.2.23-24: sourcePatientId is the ID the source knows the patient by,
patientId the XAD-PID of the affinity domain. Without a PIX Manager the XAD-PID is mapped by the configured
rule table ``patient_id_domains`` (issuer of the local ID -> assigning authority OID; "*" for any issuer).
"""

from __future__ import annotations

from imaging_source.config import ImagingConfig
from imaging_source.instance_meta import valid_uid
from imaging_source.kos import StudyInfo
from xds.hl7v2 import CX


class UnmappedPatient(ValueError):
    """No rule gives the XAD-PID of the study's patient."""


def _cx(id_number: str, authority_oid: str) -> CX:
    # ITI TF-3 4.2.3.1.7: CX with ID and assigning authority (&OID&ISO), nothing else
    escaped = id_number.replace("\\", "\\E\\").replace("^", "\\S\\").replace("&", "\\T\\")
    return CX.parse(f"{escaped}^^^&{authority_oid}&ISO")


def local_authority(config: ImagingConfig, study: StudyInfo) -> str:
    return study.issuer if valid_uid(study.issuer) else config.local_issuer_oid


def source_patient_id(config: ImagingConfig, study: StudyInfo) -> CX:
    return _cx(study.patient_id, local_authority(config, study))


def affinity_patient_id(config: ImagingConfig, study: StudyInfo) -> CX:
    if not study.patient_id:
        raise UnmappedPatient(f"study {study.study_uid} has no Patient ID")
    rules = config.patient_id_domains
    authority = rules.get(study.issuer) or rules.get(local_authority(config, study)) or rules.get("*")
    if authority is None:
        # no rule: a local ID is taken as the domain's own ID when the domain issued it, else under the
        # domain OID (the "same ID in every system" set-up the Cookbook allows for a single hospital)
        authority = config.domain_oid
    return _cx(study.patient_id, authority)


def source_patient_info(config: ImagingConfig, study: StudyInfo) -> tuple[str, ...]:
    # ITI TF-3 4.2.3.2.24: PID-3, PID-5, PID-7, PID-8 as "PID-n|value"
    info = [f"PID-3|{source_patient_id(config, study).render()}"]
    if study.patient_name:
        info.append(f"PID-5|{study.patient_name}")
    if study.birth_date:
        info.append(f"PID-7|{study.birth_date}")
    if study.sex:
        info.append(f"PID-8|{study.sex}")
    return tuple(info)
