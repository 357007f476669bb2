"""The HL7 v2.5 data types XDS metadata carries: HD, CX, XCN, XON, XTN.

ITI TF-3 4.2.3.1.7 (Table 4.2.3.1.7-2 "Data Types") encodes them with the HL7 v2 default delimiters:
'^' between components, '&' between subcomponents (HL7 v2.5 Chapter 2, 2.5 message construction).
Each class is a frozen value: ``parse(text)`` reads the encoded form, ``render()`` writes it back.

Rules common to all types:
- every component (and subcomponent) is unescaped on parse and escaped on render (HL7 v2.5 2.7);
- trailing empty components / subcomponents are left out on render (HL7 v2.5 2.5: trailing
  delimiters may be omitted), so ``CX(id_number="1").render() == "1"``;
- components after the last modelled one are kept raw (still escaped) in ``extra``, so
  ``render(parse(v))`` never drops data;
- a primitive component has no subcomponents: a literal '&' in one is read as text (lossless) and
  written back as ``\\T\\``;
- parse never raises on arbitrary text except ``UnescapedSeparatorError`` (a ``ValueError``) for an
  unescaped field separator '|' or repetition separator '~': a single XDS value is one field
  repetition (ITI TF-3 4.2.3.1.7), so either one means the text is not a value of this type.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache, lru_cache
from typing import Any, ClassVar, Self

from xds.hl7v2.escape import escape, unescape

FIELD_SEPARATOR = "|"
COMPONENT_SEPARATOR = "^"
REPETITION_SEPARATOR = "~"
SUBCOMPONENT_SEPARATOR = "&"

_FORBIDDEN = ((FIELD_SEPARATOR, "field separator"), (REPETITION_SEPARATOR, "repetition separator"))

# Kinds of component a layout entry can have.
_ST = "ST"  # primitive (ST, ID, IS, NM, DT, TS): str
_HD = "HD"  # HD at subcomponent level: HD | None
_CWE = "CWE"  # any other composite at subcomponent level: tuple[str, ...] of unescaped subcomponents
_FN = "FN"  # XCN.2 family name (HL7 v2.5 Chapter 2A, FN): surname + ``<name>_parts`` for FN.2..FN.5


class UnescapedSeparatorError(ValueError):
    """The text holds a literal '|' or '~', which no single HL7 v2 field value may hold."""

    def __init__(self, separator: str, name: str, text: str) -> None:
        super().__init__(f"unescaped {name} {separator!r} in HL7 v2 value {text!r}")
        self.separator = separator
        self.text = text


def _check(text: str) -> None:
    # HL7 v2.5 2.7: inside a field these delimiters only travel escaped (\F\, \R\).
    for separator, name in _FORBIDDEN:
        if separator in text:
            raise UnescapedSeparatorError(separator, name, text)


def _trim(parts: list[str]) -> list[str]:
    # HL7 v2.5 2.5: trailing empty components/subcomponents carry nothing and are not sent.
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _subcomponents(raw: str) -> tuple[str, ...]:
    return tuple(unescape(part) for part in _trim(raw.split(SUBCOMPONENT_SEPARATOR)))


def _join_subcomponents(values: tuple[str, ...]) -> str:
    return SUBCOMPONENT_SEPARATOR.join(_trim([escape(value) for value in values]))


_CACHED_LENGTH = 256


@lru_cache(maxsize=4096)
def _parsed(cls: type[_Composite], text: str) -> _Composite:
    # the values (HD, CX, XCN, XON, XTN, XPN) are frozen, so one is shared by every parse of its text: a
    # submission names its patient several times (patientId, sourcePatientId), and a source sends the
    # same authors again and again
    _check(text)
    return cls._from_parts(text.split(COMPONENT_SEPARATOR))


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]


class _Composite:
    """Shared parse/render for the composites below; each declares its ``_LAYOUT`` in HL7 order."""

    __slots__ = ()
    _LAYOUT: ClassVar[tuple[tuple[str, str], ...]]
    extra: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Self:
        """Read the component-level encoding (``a^b^c&d``) of this type."""
        if len(text) > _CACHED_LENGTH:
            _check(text)
            return cls._from_parts(text.split(COMPONENT_SEPARATOR))
        return _parsed(cls, text)  # type: ignore[return-value]

    def render(self) -> str:
        """Write the component-level encoding, escaped, trailing empty components left out."""
        return COMPONENT_SEPARATOR.join(self._to_parts())

    @classmethod
    def _from_parts(cls, parts: list[str]) -> Self:
        parts = _trim(parts)
        values: dict[str, Any] = {}
        for (name, kind), raw in zip(cls._LAYOUT, parts, strict=False):
            if kind == _ST:
                values[name] = unescape(raw)
            elif kind == _HD:  # an empty one becomes None in _normalise
                values[name] = HD._from_parts(raw.split(SUBCOMPONENT_SEPARATOR))
            elif kind == _CWE:
                values[name] = _subcomponents(raw)
            else:  # _FN
                surname, *rest = raw.split(SUBCOMPONENT_SEPARATOR)
                values[name] = unescape(surname)
                values[name + "_parts"] = tuple(unescape(part) for part in rest)
        return cls(**values, extra=tuple(parts[len(cls._LAYOUT) :]))

    def _to_parts(self) -> list[str]:
        parts: list[str] = []
        for name, kind in self._LAYOUT:
            value = getattr(self, name)
            if kind == _ST:
                parts.append(escape(value))
            elif kind == _HD:
                parts.append("" if value is None else SUBCOMPONENT_SEPARATOR.join(value._to_parts()))
            elif kind == _CWE:
                parts.append(_join_subcomponents(value))
            else:  # _FN
                parts.append(_join_subcomponents((value, *getattr(self, name + "_parts"))))
        parts.extend(self.extra)
        return _trim(parts)

    def _normalise(self) -> None:
        """Canonical form, so that equal encodings give equal values: tuples trimmed, empty HD -> None."""
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, list | tuple):
                if (value and not value[-1]) or isinstance(value, list):
                    object.__setattr__(self, name, tuple(_trim(list(value))))
            elif isinstance(value, HD) and value.is_empty:
                object.__setattr__(self, name, None)
        for raw in self.extra:
            # extra holds raw components: they may hold '&' and escapes, never a higher-level delimiter.
            for separator in (FIELD_SEPARATOR, REPETITION_SEPARATOR, COMPONENT_SEPARATOR):
                if separator in raw:
                    raise UnescapedSeparatorError(separator, "separator in extra component", raw)

    def __post_init__(self) -> None:
        self._normalise()


# HL7 v2.5 Chapter 2A, HD (hierarchic designator). XDS: "&<OID>&ISO" inside CX/XCN/XON (ITI TF-3 Table
# 4.2.3.1.7-2), so namespace_id empty, universal_id an OID, universal_id_type "ISO".
@dataclass(frozen=True, slots=True)
class HD(_Composite):
    namespace_id: str = ""
    universal_id: str = ""
    universal_id_type: str = ""
    extra: tuple[str, ...] = ()

    _LAYOUT: ClassVar[tuple[tuple[str, str], ...]] = (
        ("namespace_id", _ST),
        ("universal_id", _ST),
        ("universal_id_type", _ST),
    )

    @classmethod
    def parse_subcomponents(cls, text: str) -> Self:
        """Read the subcomponent-level form (``&1.2.3&ISO``) an HD has inside CX, XCN and XON."""
        _check(text)
        # At this level a '^' is text, as '&' is in a primitive component: keep it escaped in raw parts.
        return cls._from_parts(text.replace(COMPONENT_SEPARATOR, "\\S\\").split(SUBCOMPONENT_SEPARATOR))

    def render_subcomponents(self) -> str:
        """Write the subcomponent-level form (``&1.2.3&ISO``)."""
        return SUBCOMPONENT_SEPARATOR.join(self._to_parts())

    @property
    def is_empty(self) -> bool:
        return not (self.namespace_id or self.universal_id or self.universal_id_type or self.extra)


class _Assigned:
    """A composite whose identifier has an assigning authority (CX.4, XCN.9)."""

    __slots__ = ()
    assigning_authority: HD | None

    @property
    def authority_oid(self) -> str:
        """The universal id (the OID in XDS) of the assigning authority, or ""."""
        return "" if self.assigning_authority is None else self.assigning_authority.universal_id


# HL7 v2.5 Chapter 2A, CX (extended composite ID with check digit). XDS patient ids (ITI TF-3 4.2.3.1.7,
# 4.2.3.2.17 sourcePatientId, 4.2.3.2.16 patientId): "id^^^&OID&ISO", only CX.1 and CX.4 valued.
# referenceIdList (ITI TF-3 4.2.3.2.28, CXi): CX.5 holds the reference type, CX.6 a homeCommunityId.
@dataclass(frozen=True, slots=True)
class CX(_Assigned, _Composite):
    id_number: str = ""
    check_digit: str = ""
    check_digit_scheme: str = ""
    assigning_authority: HD | None = None
    identifier_type_code: str = ""
    assigning_facility: HD | None = None
    effective_date: str = ""
    expiration_date: str = ""
    assigning_jurisdiction: tuple[str, ...] = ()
    assigning_agency: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()

    _LAYOUT: ClassVar[tuple[tuple[str, str], ...]] = (
        ("id_number", _ST),
        ("check_digit", _ST),
        ("check_digit_scheme", _ST),
        ("assigning_authority", _HD),
        ("identifier_type_code", _ST),
        ("assigning_facility", _HD),
        ("effective_date", _ST),
        ("expiration_date", _ST),
        ("assigning_jurisdiction", _CWE),
        ("assigning_agency", _CWE),
    )


# HL7 v2.5 Chapter 2A, XCN (extended composite ID number and name for persons). XDS authorPerson,
# legalAuthenticator (ITI TF-3 4.2.3.1.4.2, 4.2.3.2.14): "id^family^given^further^suffix^prefix^degree
# ^^&OID&ISO". XCN.2 is an FN: surname&own surname prefix&own surname&partner prefix&partner surname;
# ``family_name`` is the surname (FN.1), ``family_name_parts`` the further FN subcomponents.
# Components 16..23 (name context, validity range, assembly order, dates, professional suffix,
# jurisdiction, agency) are not used by XDS and stay raw in ``extra``.
@dataclass(frozen=True, slots=True)
class XCN(_Assigned, _Composite):
    id_number: str = ""
    family_name: str = ""
    given_name: str = ""
    further_given_names: str = ""
    suffix: str = ""
    prefix: str = ""
    degree: str = ""
    source_table: str = ""
    assigning_authority: HD | None = None
    name_type_code: str = ""
    identifier_check_digit: str = ""
    check_digit_scheme: str = ""
    identifier_type_code: str = ""
    assigning_facility: HD | None = None
    name_representation_code: str = ""
    family_name_parts: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()

    _LAYOUT: ClassVar[tuple[tuple[str, str], ...]] = (
        ("id_number", _ST),
        ("family_name", _FN),
        ("given_name", _ST),
        ("further_given_names", _ST),
        ("suffix", _ST),
        ("prefix", _ST),
        ("degree", _ST),
        ("source_table", _ST),
        ("assigning_authority", _HD),
        ("name_type_code", _ST),
        ("identifier_check_digit", _ST),
        ("check_digit_scheme", _ST),
        ("identifier_type_code", _ST),
        ("assigning_facility", _HD),
        ("name_representation_code", _ST),
    )


# HL7 v2.5 Chapter 2A, XON (extended composite name and identification number for organizations). XDS
# authorInstitution (ITI TF-3 4.2.3.1.4.2): "name^^^^^&OID&ISO^^^^orgId"; XON.10 carries the
# organization identifier when XON.6 holds the assigning authority.
@dataclass(frozen=True, slots=True)
class XON(_Composite):
    organization_name: str = ""
    organization_name_type_code: str = ""
    id_number: str = ""
    check_digit: str = ""
    check_digit_scheme: str = ""
    assigning_authority: HD | None = None
    identifier_type_code: str = ""
    assigning_facility: HD | None = None
    name_representation_code: str = ""
    organization_identifier: str = ""
    extra: tuple[str, ...] = ()

    _LAYOUT: ClassVar[tuple[tuple[str, str], ...]] = (
        ("organization_name", _ST),
        ("organization_name_type_code", _ST),
        ("id_number", _ST),
        ("check_digit", _ST),
        ("check_digit_scheme", _ST),
        ("assigning_authority", _HD),
        ("identifier_type_code", _ST),
        ("assigning_facility", _HD),
        ("name_representation_code", _ST),
        ("organization_identifier", _ST),
    )


# HL7 v2.5 Chapter 2A, XTN (extended telecommunication number). XDS authorTelecommunication,
# intendedRecipient (ITI TF-3 4.2.3.1.4.2): "^^Internet^addr@example.org" or "^PRN^PH^^49^30^1234567".
@dataclass(frozen=True, slots=True)
class XTN(_Composite):
    telephone_number: str = ""
    telecommunication_use_code: str = ""
    telecommunication_equipment_type: str = ""
    email_address: str = ""
    country_code: str = ""
    area_city_code: str = ""
    local_number: str = ""
    extension: str = ""
    any_text: str = ""
    extension_prefix: str = ""
    speed_dial_code: str = ""
    unformatted_telephone_number: str = ""
    extra: tuple[str, ...] = ()

    _LAYOUT: ClassVar[tuple[tuple[str, str], ...]] = (
        ("telephone_number", _ST),
        ("telecommunication_use_code", _ST),
        ("telecommunication_equipment_type", _ST),
        ("email_address", _ST),
        ("country_code", _ST),
        ("area_city_code", _ST),
        ("local_number", _ST),
        ("extension", _ST),
        ("any_text", _ST),
        ("extension_prefix", _ST),
        ("speed_dial_code", _ST),
        ("unformatted_telephone_number", _ST),
    )
