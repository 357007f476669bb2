"""Coded attributes against the affinity domain's value sets (ITI TF-3 4.2.3.1.2: "the value set is
defined by the affinity domain"); REJECT / WARN / IGNORE by configuration."""

from __future__ import annotations

from collections.abc import Iterator

from xds.model import Author, Code, Submission
from xds.validation.config import CodeValidation, ValidationConfig
from xds.validation.findings import Findings
from xds.validation.syntax import is_oid
from xds.valuesets import ValueSets
from xds.vocabulary import Severity


def coded_cwe(value: str) -> Code | None:
    """An authorRole/authorSpecialty value in CWE form (ITI TF-3 Table 4.2.3.1.4-1 "String or CWE"):
    ``code^display^^&OID&ISO`` style; the scheme is the OID of the first "&<OID>&ISO" component, or a
    bare OID in CWE.3. Plain strings (no scheme found) are not coded: None."""
    components = value.split("^")
    if len(components) < 2 or not components[0]:
        return None
    for component in components[2:]:
        subs = component.split("&")
        if len(subs) >= 3 and subs[2] == "ISO" and is_oid(subs[1]):
            return Code(components[0], subs[1], components[1])
    if len(components) > 2 and is_oid(components[2]):
        return Code(components[0], components[2], components[1])
    return None


def _author_codes(authors: tuple[Author, ...]) -> Iterator[tuple[str, Code]]:
    for author in authors:
        for attribute, values in (("authorRole", author.roles), ("authorSpecialty", author.specialties)):
            for value in values:
                code = coded_cwe(value)
                if code is not None:
                    yield attribute, code


def _coded_attributes(submission: Submission) -> Iterator[tuple[str, str, Code]]:
    for de in submission.document_entries:
        singles = (
            ("classCode", de.class_code),
            ("typeCode", de.type_code),
            ("formatCode", de.format_code),
            ("healthcareFacilityTypeCode", de.healthcare_facility_type_code),
            ("practiceSettingCode", de.practice_setting_code),
        )
        for attribute, code in singles:
            if code is not None:
                yield de.entry_uuid, attribute, code
        for code in de.confidentiality_codes:
            yield de.entry_uuid, "confidentialityCode", code
        for code in de.event_codes:
            yield de.entry_uuid, "eventCodeList", code
        for attribute, code in _author_codes(de.authors):
            yield de.entry_uuid, attribute, code
    for ss in submission.submission_sets:
        if ss.content_type_code is not None:
            yield ss.entry_uuid, "contentTypeCode", ss.content_type_code
        for attribute, code in _author_codes(ss.authors):
            yield ss.entry_uuid, attribute, code
    for folder in submission.folders:
        for code in folder.codes:
            yield folder.entry_uuid, "folderCodeList", code


def check_codes(findings: Findings, submission: Submission, config: ValidationConfig) -> None:
    if config.code_validation == CodeValidation.IGNORE:
        return
    severity = Severity.ERROR if config.code_validation == CodeValidation.REJECT else Severity.WARNING
    value_sets: ValueSets = config.effective_value_sets
    for where, attribute, code in _coded_attributes(submission):
        if code.code and code.scheme and not value_sets.contains(attribute, code):
            findings.metadata(
                f"{attribute} {code.code!r} (codingScheme {code.scheme}) is not in the configured value set",
                where,
                severity,
            )
