"""Value sets that coded XDS metadata is checked against (ITI TF-3 4.2.3.1.2: codes come from the
affinity domain's value sets, which the domain itself defines).

Shipped: the IHE Deutschland XDS value sets (``xds/data/ihe-de-value-sets.tsv``). Connectathon users point
at the NIST toolkit's ``codes.xml`` instead (``ValueSets.load_nist_codes_xml``). Attribute names are the
XDS metadata names: classCode, typeCode, formatCode, healthcareFacilityTypeCode, practiceSettingCode,
confidentialityCode, eventCodeList, contentTypeCode, folderCodeList, authorRole, authorSpecialty.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

from xds.model.code import Code

IHE_DE_FILE = Path(__file__).resolve().parent / "data" / "ihe-de-value-sets.tsv"
WILDCARD = "*"  # a row with this code admits every code of its coding scheme

# Names other sources use for the same attribute (NIST codes.xml and ITI TF-3 call Folder's "codeList").
_ALIASES = {"codeList": "folderCodeList"}


def _scheme_key(scheme: str) -> str:
    # ITI TF-3 4.2.3.1.2: codingScheme is an OID; senders differ in writing "urn:oid:" before it.
    return scheme.strip().removeprefix("urn:oid:")


@dataclass(frozen=True, slots=True, eq=False)
class ValueSets:
    """Allowed (code, codingScheme) pairs per XDS attribute; display names kept for tools and docs."""

    codes: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    displays: dict[tuple[str, str, str], str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str, str]]) -> ValueSets:
        """Rows of (attribute, code, coding scheme, display name)."""
        codes: dict[str, set[tuple[str, str]]] = {}
        displays: dict[tuple[str, str, str], str] = {}
        for attribute, code, scheme, display in rows:
            attribute = _ALIASES.get(attribute, attribute)
            key = (code.strip(), _scheme_key(scheme))
            codes.setdefault(attribute, set()).add(key)
            if display:
                displays[(attribute, *key)] = display
        return cls({name: frozenset(pairs) for name, pairs in codes.items()}, displays)

    @classmethod
    def load_tsv(cls, path: Path | str) -> ValueSets:
        """``attribute<TAB>code<TAB>coding_scheme<TAB>display``; '#' lines and the header row skipped."""
        rows = []
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if parts[:3] == ["attribute", "code", "coding_scheme_oid"]:
                continue
            if len(parts) < 3 or not all(p.strip() for p in parts[:3]):
                raise ValueError(f"{path}:{number}: expected attribute, code, coding scheme[, display]")
            rows.append((parts[0].strip(), parts[1], parts[2], parts[3].strip() if len(parts) > 3 else ""))
        return cls.from_rows(rows)

    @classmethod
    def load_nist_codes_xml(cls, path: Path | str) -> ValueSets:
        """The NIST XDS Toolkit ``codes.xml``: ``<CodeType name=..><Code code codingScheme display/>``.

        CodeTypes without coding schemes (mimeType) are loaded with an empty scheme.
        """
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = etree.parse(str(path), parser).getroot()
        rows = []
        for code_type in root.iter("CodeType"):
            name = code_type.get("name", "")
            for code in code_type.iter("Code"):
                get = code.get
                rows.append((name, get("code", ""), get("codingScheme", ""), get("display", "")))
        return cls.from_rows(rows)

    @classmethod
    def ihe_de(cls) -> ValueSets:
        """The shipped IHE-DE value sets (read once per process)."""
        return _ihe_de()

    def attributes(self) -> set[str]:
        return set(self.codes)

    def contains(self, attribute: str, code: Code) -> bool:
        """True when the value set of ``attribute`` admits the code (an unknown attribute admits all)."""
        allowed = self.codes.get(_ALIASES.get(attribute, attribute))
        if allowed is None:
            return True
        scheme = _scheme_key(code.scheme)
        return (code.code, scheme) in allowed or (WILDCARD, scheme) in allowed

    def display_name(self, attribute: str, code: Code) -> str:
        return self.displays.get((attribute, code.code, _scheme_key(code.scheme)), "")

    def __len__(self) -> int:
        return sum(len(pairs) for pairs in self.codes.values())


@cache
def _ihe_de() -> ValueSets:
    return ValueSets.load_tsv(IHE_DE_FILE)
