"""Codes from the command line: ``BEF`` (looked up in the affinity domain's value sets) or
``code^^codingScheme``; display names come from the value sets (ITI TF-3 4.2.3.1.2)."""

from __future__ import annotations

from xds.model import Code
from xds.valuesets import ValueSets

# the stored-query parameters whose codes the value sets of an XDS attribute hold
QUERY_ATTRIBUTES = {
    "class_code": "classCode",
    "type_code": "typeCode",
    "format_code": "formatCode",
    "practice_setting_code": "practiceSettingCode",
    "healthcare_facility_type_code": "healthcareFacilityTypeCode",
    "event_code_list": "eventCodeList",
    "confidentiality_code": "confidentialityCode",
    "content_type": "contentTypeCode",
    "code_list": "folderCodeList",
}


class CodeError(ValueError):
    pass


def resolve_code(attribute: str, value: Code | str, value_sets: ValueSets | None = None) -> Code:
    sets = value_sets or ValueSets.ihe_de()
    if isinstance(value, Code):
        return value
    text = value.strip()
    if "^" in text:
        parts = text.split("^")
        if len(parts) != 3 or not parts[0] or parts[1] or not parts[2]:
            raise CodeError(f"{attribute}: {value!r} is not CODE or CODE^^CODING_SCHEME")
        code = Code(parts[0], parts[2])
        return Code(code.code, code.scheme, sets.display_name(attribute, code))
    schemes = sorted({scheme for c, scheme in sets.codes.get(attribute, ()) if c == text})
    if len(schemes) != 1:
        why = "is in no value set" if not schemes else f"is in several code systems ({', '.join(schemes)})"
        raise CodeError(f"{attribute}: code {text!r} {why}; give it as {text}^^<coding scheme OID>")
    code = Code(text, schemes[0])
    return Code(code.code, code.scheme, sets.display_name(attribute, code))
