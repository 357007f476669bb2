"""Following a document's relationships (ITI TF-3 4.2.2.2): who replaced it, its addenda, its transforms.

Only GetRelatedDocuments and GetDocuments are used, so this works with any registry. An association of
these types points from the new document (sourceObject) to the one it relates to (targetObject).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xds.errors import ErrorCode, XdsError
from xds.model import AdhocQueryResponse, Association, DocumentEntry
from xds.vocabulary import DOCUMENT_RELATIONSHIPS, REPLACING_RELATIONSHIPS, AssociationType, Status


@dataclass(frozen=True, slots=True)
class Related:
    """A document related to ``of`` and the association that says how."""

    association: Association
    document: DocumentEntry

    @property
    def kind(self) -> str:
        return self.association.association_type


class Relationships:
    def get_documents(self, **ids: object) -> AdhocQueryResponse:
        raise NotImplementedError

    def get_related_documents(self, association_types: object, **ids: object) -> AdhocQueryResponse:
        raise NotImplementedError

    def document(self, ref: DocumentEntry | str) -> DocumentEntry:
        """The DocumentEntry of an entryUUID (``urn:uuid:...``) or uniqueId, by GetDocuments."""
        if isinstance(ref, DocumentEntry):
            return ref
        key = "entry_uuid" if ref.startswith("urn:uuid:") else "unique_id"
        found = self.get_documents(**{key: [ref]}).document_entries
        if not found:
            raise XdsError(ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR, f"the registry knows no document {ref}")
        return found[0]

    def related(
        self,
        ref: DocumentEntry | str,
        types: Iterable[str] = DOCUMENT_RELATIONSHIPS,
        *,
        incoming: bool = True,
    ) -> list[Related]:
        """Documents related to ``ref`` by ``types``: those pointing to it (``incoming``: its replacements,
        addenda, transforms, signatures) or those it points to (``incoming=False``: what it replaced ...)."""
        entry = self.document(ref)
        answer = self.get_related_documents(sorted(types), entry_uuid=entry.entry_uuid)
        by_id = {d.entry_uuid: d for d in answer.document_entries}
        out = []
        for a in answer.associations:
            near, far = (a.target, a.source) if incoming else (a.source, a.target)
            if near == entry.entry_uuid and far in by_id:
                out.append(Related(a, by_id[far]))
        return out

    def replacements(self, ref: DocumentEntry | str) -> list[DocumentEntry]:
        """The documents that replaced this one (RPLC, XFRM_RPLC; ITI TF-3 4.2.2.2.1, 4.2.2.2.4)."""
        return [r.document for r in self.related(ref, REPLACING_RELATIONSHIPS)]

    def addenda(self, ref: DocumentEntry | str) -> list[DocumentEntry]:
        """The addenda to this document (APND, ITI TF-3 4.2.2.2.2)."""
        return [r.document for r in self.related(ref, [AssociationType.APND])]

    def transforms(self, ref: DocumentEntry | str) -> list[DocumentEntry]:
        """Transformations of this document (XFRM, XFRM_RPLC; ITI TF-3 4.2.2.2.3, 4.2.2.2.4)."""
        return [r.document for r in self.related(ref, [AssociationType.XFRM, AssociationType.XFRM_RPLC])]

    def newest_version(self, ref: DocumentEntry | str, *, limit: int = 100) -> DocumentEntry:
        """Follow RPLC / XFRM_RPLC from ``ref`` to the version that nothing replaces (ITI TF-3 4.2.2.2.1: the
        replaced one is deprecated, its replacement approved). Where two documents replace the same one, the
        approved one is followed."""
        current = self.document(ref)
        seen = {current.entry_uuid}
        for _ in range(limit):
            newer = self.replacements(current)
            if not newer:
                return current
            newer.sort(key=lambda d: d.availability_status != Status.APPROVED)
            current = newer[0]
            if current.entry_uuid in seen:
                break
            seen.add(current.entry_uuid)
        raise XdsError(ErrorCode.XDS_REGISTRY_ERROR, f"replacement chain of {ref} does not end")
