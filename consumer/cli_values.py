"""Stored-query parameter values as typed on the command line, to the typed values of ``consumer.params``.

``NAME=VALUE``: a list is comma-separated (an OR); repeating an AND-able parameter (eventCodeList,
confidentialityCode, referenceIdList, Folder codeList) makes an AND of the lists (ITI TF-2a
3.18.4.1.2.3.5). Codes are ``CODE`` (found in the value sets) or ``CODE^^SCHEME``. A VALUE that starts with
``'`` or ``(`` is taken as the Slot value itself and sent unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from consumer.codes import QUERY_ATTRIBUTES, resolve_code
from consumer.params import ParameterError, parameter_names, resolve
from xds.model import QueryParameter
from xds.validation.query_tables import Kind, ParamSpec
from xds.vocabulary import StoredQuery


@dataclass
class CliParams:
    query: StoredQuery
    typed: dict[str, Any] = field(default_factory=dict)
    raw: list[QueryParameter] = field(default_factory=list)
    _given: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, text: str) -> None:
        spec = resolve(self.query, name)
        if text.lstrip().startswith(("'", "(")):
            self.raw.append(QueryParameter(spec.name, (text,)))
            return
        self._given.setdefault(spec.name, []).append(text)

    def add_pair(self, pair: str) -> None:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param {pair!r} is not NAME=VALUE")
        self.add(name.strip(), text)

    def has(self, name: str) -> bool:
        spec = resolve(self.query, name)
        return spec.name in self._given or any(p.name == spec.name for p in self.raw)

    def specs(self, kind: Kind) -> list[ParamSpec]:
        return [s for s in parameter_names(self.query).values() if s.kind == kind]

    def build(self) -> dict[str, Any]:
        python_names = {spec.name: name for name, spec in parameter_names(self.query).items()}
        out: dict[str, Any] = {}
        for slot_name, texts in self._given.items():
            name = python_names[slot_name]
            out[name] = _value(resolve(self.query, slot_name), name, texts)
        return out


def _items(text: str) -> list[str]:
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise ParameterError(f"empty value in {text!r}")
    return items


def _value(spec: ParamSpec, name: str, texts: list[str]) -> Any:
    if not spec.multiple:
        if len(texts) > 1:
            raise ParameterError(f"{spec.name} takes one value, given {len(texts)} times")
        return texts[0].strip()
    if spec.kind == Kind.CODE_LIST:
        attribute = QUERY_ATTRIBUTES.get(name, name)
        groups = [[resolve_code(attribute, item) for item in _items(t)] for t in texts]
    else:
        groups = [_items(t) for t in texts]
    if spec.and_or and len(groups) > 1:
        return groups
    return [item for group in groups for item in group]
