"""ITI-41 Provide and Register Document Set-b at the Document Repository (ITI TF-2b 3.41.4.1.3).

Store the documents, fill hash/size/repositoryUniqueId, forward the metadata as ITI-42 and make the
documents visible only when the registry says Success. Any other outcome removes what this submission
stored, unless the registry may have registered it after all (an answer lost on the way back): then the
blobs stay 'pending' and the sweeper asks the registry (repository.sweep).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import anyio.to_thread

from repository.registry_link import RegistryLink, RegistryUnavailable
from repository.store import BlobStore, NewDocument, Staged
from xds.errors import ErrorCode, RegistryError, XdsError
from xds.model import ProvideAndRegisterRequest, RegistryResponse, Submission
from xds.transactions import Transaction
from xds.validation import ValidationConfig, validate_or_raise
from xds.vocabulary import ResponseStatus

log = logging.getLogger(__name__)


def check_repository_ids(request: ProvideAndRegisterRequest, repository_unique_id: str) -> None:
    # ITI TF-2b 3.41.4.1.3: repositoryUniqueId is the Repository's own to set; a source that names
    # another repository sent metadata this repository cannot honour
    errors = [
        RegistryError(
            ErrorCode.XDS_REPOSITORY_METADATA_ERROR,
            f"repositoryUniqueId {de.repository_unique_id} is not this repository ({repository_unique_id})",
            de.entry_uuid,
        )
        for de in request.submission.document_entries
        if de.repository_unique_id and de.repository_unique_id != repository_unique_id
    ]
    if errors:
        raise XdsError.collect(errors)


def for_registry(request: ProvideAndRegisterRequest, repository_unique_id: str) -> Submission:
    """The ITI-42 metadata: ITI TF-2b 3.41.4.1.3 -- the Repository fills hash, size and repositoryUniqueId
    of each DocumentEntry from the document it stored (values the source sent were checked equal)."""
    contents = {doc.id: doc.content for doc in request.documents}
    entries = tuple(
        replace(
            de,
            hash=contents[de.entry_uuid].sha1.lower(),
            size=contents[de.entry_uuid].size,
            repository_unique_id=repository_unique_id,
        )
        for de in request.submission.document_entries
    )
    return replace(request.submission, document_entries=entries)


def new_documents(submission: Submission, request: ProvideAndRegisterRequest) -> list[NewDocument]:
    entries = {de.entry_uuid: de for de in submission.document_entries}
    return [
        NewDocument(entries[doc.id].unique_id, entries[doc.id].mime_type, doc.content)
        for doc in request.documents
    ]


@dataclass
class ProvideAndRegister:
    store: BlobStore
    registry: RegistryLink
    validation: ValidationConfig
    # told about blobs whose registration outcome is unknown (the sweeper settles them)
    unsettled: Callable[[Iterable[str]], None]

    @property
    def repository_unique_id(self) -> str:
        return self.store.repository_unique_id

    async def __call__(self, request: ProvideAndRegisterRequest) -> RegistryResponse:
        check_repository_ids(request, self.repository_unique_id)
        # ITI TF-2b 3.41.4.1.3: XDSMissingDocument, XDSMissingDocumentMetadata, and a supplied hash or size
        # that is not the document's -> XDSRepositoryMetadataError (xds.validation, chosen by transaction)
        warnings = validate_or_raise(request, Transaction.ITI_41, self.validation)
        submission = for_registry(request, self.repository_unique_id)
        documents = new_documents(submission, request)
        staged = await anyio.to_thread.run_sync(self.store.stage, documents)
        try:
            response = await self._forward(submission, staged)
        except XdsError:
            raise  # settled: removed, or handed to the sweeper
        except BaseException:
            # cancelled or broken while the registry may have had the request: let the sweeper find out
            self.unsettled(staged.created)
            raise
        if response.status == ResponseStatus.SUCCESS:
            return replace(response, errors=(*warnings, *response.errors))
        return response  # ITI TF-2b 3.41.4.2.2: the registry's errors go back unchanged

    async def _forward(self, submission: Submission, staged: Staged) -> RegistryResponse:
        try:
            response = await self.registry.register(submission)
        except RegistryUnavailable as exc:
            return await self._unavailable(exc, staged)
        if response.status == ResponseStatus.SUCCESS:
            await self._registered(staged.created)
        else:
            # ITI TF-2b 3.41.4.1.3: a submission the registry refused leaves no document behind
            await anyio.to_thread.run_sync(self.store.discard, staged)
        return response

    async def _registered(self, unique_ids: Iterable[str]) -> None:
        ids = list(unique_ids)
        try:
            await anyio.to_thread.run_sync(self.store.mark_registered, ids)
        except Exception:
            # registered at the registry and stored here: the sweeper makes them visible once it can write
            log.exception("cannot mark %d registered documents; left to the sweeper", len(ids))
            self.unsettled(ids)

    async def _unavailable(self, exc: RegistryUnavailable, staged: Staged) -> RegistryResponse:
        # ITI TF-3 Table 4.2.4.1-2: XDSRegistryNotAvailable when the repository cannot reach its registry
        context = f"registry {self.registry.url}: {exc.reason}"
        failure = XdsError(ErrorCode.XDS_REGISTRY_NOT_AVAILABLE, context)
        if not exc.certain and staged.created:
            # the ITI-42 may have been processed: ask before deleting anything
            try:
                found = await self.registry.registered(staged.created)
            except RegistryUnavailable:
                self.unsettled(staged.created)
                raise failure from exc
            if found:
                # ITI-42 is all or nothing (ITI TF-2b 3.42.4.1.3): one registered means all were
                await self._registered(staged.created)
                return RegistryResponse(ResponseStatus.SUCCESS)
        await anyio.to_thread.run_sync(self.store.discard, staged)
        raise failure from exc
