"""The stored XML of what an ITI-42 submission creates, made from the elements as they were submitted.

The registry keeps each object's LeafClass XML (registry/tables.py). Encoding the decoded object again
(registry.rows.to_ebrim) costs more CPU than anything else in a registration, so a SubmissionSet,
DocumentEntry or Association is stored as a copy of its submitted element with the registry's changes
applied (ITI TF-2b 3.42.4.1.3):

- its entryUUID, and the sourceObject/targetObject of an Association, as final: symbolic ids replaced
  by UUIDs (ITI TF-3 4.2.3.1.5); its objectType; availabilityStatus Approved (ITI TF-2b 3.42.4.1.3.3.5);
  a DocumentEntry's logicalID and version (XDS Metadata Update: lid, VersionInfo);
- its Classifications and ExternalIdentifiers point at that entryUUID and get new UUIDs (their ids carry
  no meaning in XDS; the ones sent may be symbolic, or the same in every submission of a source); those
  sent at the top of the RegistryObjectList for it (ITI TF-3 4.2.3.3) move inside it, after its own
  (ebRIM 3.0 2.5.1 order).

Decoding the stored XML gives exactly the object the registry registered (tests/test_registry_stored.py);
what the model does not keep (a second LocalizedString, its lang and charset ...) stays as submitted,
without the submitter's layout (comments, white space between elements).
An element holding anything else than the parts of a RegistryObject (regrep-rim-3.0 2.5.1: Slot, Name,
Description, VersionInfo, Classification, ExternalIdentifier), and a Folder, are encoded from the object.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field

from lxml import etree

from registry.identifiers import new_uuid
from registry.rows import RegistryObject, ebrim_text
from xds.ebrim.xml import element_children, rim
from xds.model import Association, DocumentEntry, Folder
from xds.vocabulary import OBJECT_TYPE_ASSOCIATION, OBJECT_TYPE_REGISTRY_PACKAGE

_CLASSIFICATION, _IDENTIFIER = rim("Classification"), rim("ExternalIdentifier")
_VERSION_INFO = rim("VersionInfo")
# the children of a rim:RegistryObject in ebRIM 3.0 order; VersionInfo goes after the first three
_HEAD = frozenset({rim("Slot"), rim("Name"), rim("Description")})
_PARTS = _HEAD | {_VERSION_INFO, _CLASSIFICATION, _IDENTIFIER}


@dataclass
class Submitted:
    """One object as submitted, with the Classifications and ExternalIdentifiers sent for it at the top of
    the RegistryObjectList."""

    element: etree._Element
    classifications: list[etree._Element] = field(default_factory=list)
    identifiers: list[etree._Element] = field(default_factory=list)


def submitted_objects(request: etree._Element) -> dict[str, Submitted]:
    """The objects of an lcm:SubmitObjectsRequest (as xds.ebrim decoded it) by the id they were sent with."""
    objects: dict[str, Submitted] = {}
    top: dict[str, list[etree._Element]] = defaultdict(list)
    for object_list in request.iterchildren(rim("RegistryObjectList")):
        for child in element_children(object_list):
            if child.tag == _CLASSIFICATION:
                top[child.get("classifiedObject", "")].append(child)
            elif child.tag == _IDENTIFIER:
                top[child.get("registryObject", "")].append(child)
            else:
                objects[child.get("id", "")] = Submitted(child)
    for owner, parts in top.items():
        if owner in objects:
            sent = objects[owner]
            sent.classifications = [p for p in parts if p.tag == _CLASSIFICATION]
            sent.identifiers = [p for p in parts if p.tag == _IDENTIFIER]
    return objects


def stored_text(obj: RegistryObject, sent: Submitted | None) -> str:
    """The XML the registry stores for ``obj``, registered from ``sent`` (None: created by the registry)."""
    if sent is None or isinstance(obj, Folder) or not _plain(sent.element):
        return ebrim_text(obj)
    el = copy.deepcopy(sent.element)
    _compact(el)
    oid = obj.entry_uuid
    el.set("id", oid)
    el.set("status", obj.availability_status or "")
    if isinstance(obj, DocumentEntry):
        el.set("objectType", obj.object_type)
        el.set("lid", obj.logical_id or oid)
        _set_version(el, obj.version or "1")
    elif isinstance(obj, Association):
        el.set("objectType", OBJECT_TYPE_ASSOCIATION)
        el.set("sourceObject", obj.source)
        el.set("targetObject", obj.target)
    else:
        el.set("objectType", OBJECT_TYPE_REGISTRY_PACKAGE)
    _adopt(el, el.findall(_CLASSIFICATION) + sent.classifications, "classifiedObject", oid)
    _adopt(el, el.findall(_IDENTIFIER) + sent.identifiers, "registryObject", oid)
    return etree.tostring(el, encoding="unicode", with_tail=False)


def _plain(el: etree._Element) -> bool:
    return all(child.tag in _PARTS for child in element_children(el))


def _compact(el: etree._Element) -> None:
    """Drop the submitter's layout: comments, processing instructions, white space between elements."""
    etree.strip_tags(el, etree.Comment, etree.ProcessingInstruction)
    for node in el.iter():
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
        if node.tail is not None and not node.tail.strip():
            node.tail = None


def _set_version(el: etree._Element, version: str) -> None:
    info = el.find(_VERSION_INFO)
    if info is None:
        heads = [i for i, child in enumerate(el) if child.tag in _HEAD]
        info = el.makeelement(_VERSION_INFO)
        el.insert(heads[-1] + 1 if heads else 0, info)
    info.set("versionName", version)


def _adopt(el: etree._Element, parts: list[etree._Element], owner_attribute: str, owner: str) -> None:
    """Append ``parts`` to ``el`` as the parts of ``owner``, with new ids: moved if they are ``el``'s own,
    copied if they were sent at the top of the RegistryObjectList."""
    for part in parts:
        if part.getparent() is not el:
            part = copy.deepcopy(part)
            _compact(part)
        el.append(part)  # appending moves a child of el to the end
        part.set("id", new_uuid())
        part.set(owner_attribute, owner)
