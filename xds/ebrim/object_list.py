"""rim:RegistryObjectList <-> the objects of a submission or a query response.

ITI TF-3 4.2.3.3 / 4.2.3.4: the Classification that makes a RegistryPackage a SubmissionSet or Folder
may sit inside the package or at the top of the list (classifiedObject = package id); both are read,
and it is always written inside. Any other top-level Classification or ExternalIdentifier is attached
to the object it names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from lxml.etree import _Element

from xds.ebrim.association import (
    association_from_ebrim,
    association_to_ebrim,
    object_ref_from_ebrim,
    object_ref_to_ebrim,
)
from xds.ebrim.document_entry import document_entry_from_ebrim, document_entry_to_ebrim
from xds.ebrim.folder import folder_from_ebrim, folder_to_ebrim
from xds.ebrim.submission_set import submission_set_from_ebrim, submission_set_to_ebrim
from xds.ebrim.xml import append_all, children, element_children, metadata_error, new_root, rim
from xds.model import Association, DocumentEntry, Folder, ObjectRef, SubmissionSet
from xds.vocabulary import CLASSIFICATION_NODE_FOLDER, CLASSIFICATION_NODE_SUBMISSION_SET


@dataclass(frozen=True, slots=True)
class RegistryObjects:
    submission_sets: tuple[SubmissionSet, ...] = ()
    document_entries: tuple[DocumentEntry, ...] = ()
    folders: tuple[Folder, ...] = ()
    associations: tuple[Association, ...] = ()
    object_refs: tuple[ObjectRef, ...] = ()


def registry_object_list_to_ebrim(objects: RegistryObjects) -> _Element:
    el = new_root(rim("RegistryObjectList"), "rim")
    append_all(el, (submission_set_to_ebrim(s) for s in objects.submission_sets))
    append_all(el, (folder_to_ebrim(f) for f in objects.folders))
    append_all(el, (document_entry_to_ebrim(d) for d in objects.document_entries))
    append_all(el, (association_to_ebrim(a) for a in objects.associations))
    append_all(el, (object_ref_to_ebrim(r) for r in objects.object_refs))
    return el


def _package_kind(pkg: _Element, classifications: Sequence[_Element]) -> str:
    nodes = {c.get("classificationNode") for c in [*children(pkg, rim("Classification")), *classifications]}
    is_ss = CLASSIFICATION_NODE_SUBMISSION_SET in nodes
    is_folder = CLASSIFICATION_NODE_FOLDER in nodes
    if is_ss == is_folder:
        # ITI TF-3 4.2.5.2: every RegistryPackage is classified as exactly one of SubmissionSet / Folder
        pid = pkg.get("id") or "RegistryPackage"
        what = "both SubmissionSet and Folder" if is_ss else "neither SubmissionSet nor Folder"
        raise metadata_error(f"RegistryPackage {pid} is classified as {what}", pid)
    return "ss" if is_ss else "folder"


def registry_object_list_from_ebrim(el: _Element | None) -> RegistryObjects:
    if el is None:
        return RegistryObjects()
    top_classifications: dict[str, list[_Element]] = defaultdict(list)
    top_identifiers: dict[str, list[_Element]] = defaultdict(list)
    objects: list[_Element] = []
    for child in element_children(el):
        if child.tag == rim("Classification"):
            target = child.get("classifiedObject")
            if not target:
                raise metadata_error(f"top-level Classification {child.get('id')} has no classifiedObject")
            top_classifications[target].append(child)
        elif child.tag == rim("ExternalIdentifier"):
            target = child.get("registryObject")
            if not target:
                raise metadata_error(f"top-level ExternalIdentifier {child.get('id')} has no registryObject")
            top_identifiers[target].append(child)
        else:
            objects.append(child)

    entries: list[DocumentEntry] = []
    sets: list[SubmissionSet] = []
    folders: list[Folder] = []
    associations: list[Association] = []
    refs: list[ObjectRef] = []
    known: set[str] = set()
    for obj in objects:
        oid = obj.get("id") or ""
        known.add(oid)
        cls = top_classifications.get(oid, [])
        ids = top_identifiers.get(oid, [])
        if obj.tag == rim("ExtrinsicObject"):
            entries.append(document_entry_from_ebrim(obj, cls, ids))
        elif obj.tag == rim("RegistryPackage"):
            if _package_kind(obj, cls) == "ss":
                sets.append(submission_set_from_ebrim(obj, cls, ids))
            else:
                folders.append(folder_from_ebrim(obj, cls, ids))
        elif obj.tag == rim("Association"):
            associations.append(association_from_ebrim(obj, cls))
        elif obj.tag == rim("ObjectRef"):
            refs.append(object_ref_from_ebrim(obj))
        # regrep-rim-3.0 allows other RegistryObject kinds here; XDS defines none, so they are ignored.
    for target in [*top_classifications, *top_identifiers]:
        if target not in known:
            raise metadata_error(
                f"top-level Classification/ExternalIdentifier refers to {target}, "
                "which is not in the RegistryObjectList",
                target,
            )
    return RegistryObjects(tuple(sets), tuple(entries), tuple(folders), tuple(associations), tuple(refs))
