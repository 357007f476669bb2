"""``consumer.Client``: Document Consumer (ITI-18, ITI-43) and, for ``xds submit``, Document Source (ITI-41).

Only the standard messages go on the wire, so the client works against any conformant registry and
repository. A Failure answer raises ``XdsError`` with the peer's error codes; a PartialSuccess answer is
returned with its errors (warnings) attached.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from consumer.params import encode_all, query_by_name
from consumer.progress import ProgressFactory, http_client
from consumer.relations import Relationships
from consumer.retrieve import (
    RetrieveResult,
    Wanted,
    batches,
    remove_spool,
    request_body,
    spool_folder,
    store_reply,
)
from consumer.stored_queries import StoredQueries
from consumer.submit import SubmitOptions, build_request
from consumer.transport import Transport, check
from xds.config import Settings
from xds.ebrim import (
    adhoc_query_request_to_ebrim,
    adhoc_query_response_from_ebrim,
    pnr_to_ebrim_with_parts,
    registry_response_from_ebrim,
)
from xds.model import (
    AdhocQueryRequest,
    AdhocQueryResponse,
    DocumentEntry,
    DocumentRequest,
    ProvideAndRegisterRequest,
    QueryParameter,
    RegistryResponse,
)
from xds.runtime import local_url
from xds.soap import SoapClient
from xds.tls import client_context
from xds.transactions import Transaction
from xds.vocabulary import ReturnType, StoredQuery

REGISTRY_PATH = "/xds/registry"
REPOSITORY_PATH = "/xds/repository"


@dataclass(frozen=True, slots=True)
class SubmitResult:
    request: ProvideAndRegisterRequest  # what was sent: entryUUIDs and uniqueIds of the new objects
    response: RegistryResponse  # Success or PartialSuccess, with any warnings

    @property
    def document_entries(self) -> tuple[DocumentEntry, ...]:
        return self.request.submission.document_entries


class Client(StoredQueries, Relationships):
    def __init__(
        self,
        registry_url: str | None = None,
        repository_url: str | None = None,
        *,
        repository_unique_id: str | None = None,
        repositories: Mapping[str, str] | None = None,
        home_community_id: str | None = None,
        spool_dir: Path | None = None,
        timeout: float = 300.0,
        soap: SoapClient | None = None,
        progress: ProgressFactory | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """``repositories`` maps repositoryUniqueIds to ITI-43 URLs; the rest go to ``repository_url``;
        ``tls`` is the node's client context for https endpoints (ATNA, xds.tls.client_context)."""
        self.registry_url = registry_url
        self.repository_url = repository_url
        self.repository_unique_id = repository_unique_id
        self.repositories = dict(repositories or {})
        self.home_community_id = home_community_id
        self.timeout = timeout
        self.progress = progress  # makes the progress line of a long ITI-43 (consumer.progress)
        self._transport = Transport(soap, spool_dir, timeout, tls)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, registry_url: str | None = None, repository_url: str | None = None,
        **options: Any,
    ) -> Client:
        """Endpoints of a domain as ``xds up`` serves it (DESIGN.md: one HTTP port), unless given."""
        base = local_url(settings)
        options.setdefault("tls", client_context(settings))
        return cls(
            registry_url or settings.registry_url or base + REGISTRY_PATH,
            repository_url or base + REPOSITORY_PATH,
            repository_unique_id=settings.repository_unique_id,
            home_community_id=settings.home_community_id or None,
            **options,
        )

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- ITI-18 ------------------------------------------------------------------------------------------
    def query(
        self,
        query: StoredQuery | str,
        params: Mapping[str, Any] | None = None,
        *,
        object_refs: bool = False,
        raw: Sequence[QueryParameter] = (),
    ) -> AdhocQueryResponse:
        """Run a stored query. ``params`` by Python or Slot name with typed values (``consumer.params``);
        ``raw`` Slots are sent as given, for values this client has no type for."""
        stored = query if isinstance(query, StoredQuery) else query_by_name(query)
        request = AdhocQueryRequest(
            query_id=stored,
            parameters=encode_all(stored, params or {}) + tuple(raw),
            # ITI TF-2a 3.18.4.1.2.1: ObjectRef or LeafClass; LeafClass with composed objects
            return_type=ReturnType.OBJECT_REF if object_refs else ReturnType.LEAF_CLASS,
            home_community_id=self.home_community_id,
        )
        reply = self._transport.call(
            "registry", self.registry_url, Transaction.ITI_18, adhoc_query_request_to_ebrim(request)
        )
        response = adhoc_query_response_from_ebrim(reply.body)
        check(response.status, response.errors, "registry", "ITI-18")
        return response

    def iter_documents(
        self,
        query: StoredQuery | str,
        params: Mapping[str, Any] | None = None,
        *,
        batch_size: int = 100,
    ) -> Iterator[DocumentEntry]:
        """Page through a large answer: the query as ObjectRefs (cheap, ITI TF-2a 3.18.4.1.2.1), then
        GetDocuments as LeafClass, ``batch_size`` entryUUIDs at a time, in the order of the ObjectRefs."""
        refs = self.query(query, params, object_refs=True).object_refs
        ids = [r.id for r in refs]
        for start in range(0, len(ids), max(batch_size, 1)):
            batch = ids[start : start + batch_size]
            found = {d.entry_uuid: d for d in self.get_documents(entry_uuid=batch).document_entries}
            yield from (found[i] for i in batch if i in found)

    # --- ITI-43 ------------------------------------------------------------------------------------------
    def repository_url_for(self, repository_unique_id: str) -> str | None:
        return self.repositories.get(repository_unique_id, self.repository_url)

    def retrieve(
        self,
        documents: Iterable[str | DocumentEntry | DocumentRequest],
        out_dir: Path,
        *,
        repository_unique_id: str | None = None,
        verify: bool = True,
        batch_size: int = 50,
    ) -> RetrieveResult:
        """Retrieve documents into ``out_dir`` as ``<uniqueId><ext>``. Plain uniqueIds are looked up in
        the registry (GetDocuments) for their repository, size and hash unless ``verify`` is off; those not
        looked up or not known there go to ``repository_unique_id`` (default: the client's). Raises
        ``XdsError`` when nothing could be retrieved; otherwise the errors of the rest are in the result."""
        out_dir.mkdir(parents=True, exist_ok=True)
        wanted = self._wanted(list(documents), repository_unique_id, verify)
        by_repository: dict[str, list[Wanted]] = {}
        for w in wanted:
            by_repository.setdefault(w.request.repository_unique_id, []).append(w)
        files, errors = [], []
        spool = spool_folder(out_dir)
        sizes = [w.entry.size if w.entry else None for w in wanted]
        total_bytes = sum(s for s in sizes if s) if all(sizes) else None
        progress = self.progress("ITI-43", len(wanted), "documents", total_bytes) if self.progress else None
        try:
            with SoapClient(spool_dir=spool, http=http_client(self.timeout, progress)) as soap:
                transport = Transport(soap, None, self.timeout)
                for rid, group in by_repository.items():
                    for batch in batches(group, batch_size):
                        url = self.repository_url_for(rid)
                        reply = transport.call("repository", url, Transaction.ITI_43, request_body(batch))
                        got, failed = store_reply(reply, batch, out_dir)
                        files += got
                        errors += failed
                        if progress is not None:
                            progress.advance(len(got))
        finally:
            remove_spool(spool)
            if progress is not None:
                progress.close()
        result = RetrieveResult(tuple(files), tuple(errors))
        check(result.status, result.errors, "repository", "ITI-43")
        return result

    def _wanted(
        self,
        documents: list[str | DocumentEntry | DocumentRequest],
        repository_unique_id: str | None,
        verify: bool,
    ) -> list[Wanted]:
        unique_ids = [d for d in documents if isinstance(d, str)]
        known: dict[str, DocumentEntry] = {}
        if unique_ids and verify:
            for start in range(0, len(unique_ids), 100):
                answer = self.get_documents(unique_id=unique_ids[start : start + 100])
                known |= {d.unique_id: d for d in answer.document_entries}
        default_rid = repository_unique_id or self.repository_unique_id or ""
        out = []
        for d in documents:
            if isinstance(d, DocumentRequest):
                out.append(Wanted(d))
                continue
            entry = d if isinstance(d, DocumentEntry) else known.get(d)
            uid = d if isinstance(d, str) else d.unique_id
            rid = (entry.repository_unique_id if entry else None) or default_rid
            home = entry.home_community_id if entry else None
            out.append(Wanted(DocumentRequest(rid, uid, home), entry if verify else None))
        return out

    # --- ITI-41 ------------------------------------------------------------------------------------------
    def submit(self, files: Sequence[Path], options: SubmitOptions) -> SubmitResult:
        """Provide and register ``files`` as one SubmissionSet. ``options.replace`` may name the replaced
        document by entryUUID or uniqueId (looked up with GetDocuments)."""
        if options.replace and not options.replace.startswith("urn:uuid:"):
            options = replace(options, replace=self.document(options.replace).entry_uuid)
        request = build_request(files, options)
        body, parts = pnr_to_ebrim_with_parts(request)
        reply = self._transport.call("repository", self.repository_url, Transaction.ITI_41, body, parts)
        response = registry_response_from_ebrim(reply.body)
        check(response.status, response.errors, "repository", "ITI-41")
        return SubmitResult(request, response)

