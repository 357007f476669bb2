"""ITI-43 Retrieve Document Set at the Document Repository (ITI TF-2b 3.43.4.1.3, 3.43.4.2.2).

Each xdsb:DocumentRequest is answered on its own: the document streamed from its blob file as an MTOM part,
or a RegistryError for it. Only documents the registry accepted ('registered' blobs) are ever returned.
"""

from __future__ import annotations

import uuid

import anyio.to_thread

from repository.store import BlobStore
from xds.errors import ErrorCode, RegistryError
from xds.model import (
    Attachment,
    RegistryResponse,
    RetrievedDocument,
    RetrieveDocumentSetRequest,
    RetrieveDocumentSetResponse,
)
from xds.vocabulary import ResponseStatus


def response_status(found: int, errors: int) -> ResponseStatus:
    # ITI TF-2b 3.43.4.2.3: Success when every document is returned, PartialSuccess when some are,
    # Failure when none is
    if not errors:
        return ResponseStatus.SUCCESS
    return ResponseStatus.PARTIAL_SUCCESS if found else ResponseStatus.FAILURE


async def retrieve(store: BlobStore, request: RetrieveDocumentSetRequest) -> RetrieveDocumentSetResponse:
    ours = [d for d in request.documents if d.repository_unique_id == store.repository_unique_id]
    blobs = await anyio.to_thread.run_sync(store.registered, [d.document_unique_id for d in ours])
    documents: list[RetrievedDocument] = []
    errors: list[RegistryError] = []
    for wanted in request.documents:
        uid = wanted.document_unique_id
        if wanted.repository_unique_id != store.repository_unique_id:
            # ITI TF-2b 3.43.4.1.3: a RepositoryUniqueId that is not this repository's
            errors.append(
                RegistryError(
                    ErrorCode.XDS_UNKNOWN_REPOSITORY_ID,
                    f"repository {wanted.repository_unique_id} is not this one",
                    wanted.repository_unique_id,
                )
            )
            continue
        blob = blobs.get(uid)
        if blob is None:
            # ITI TF-2b 3.43.4.1.3: a DocumentUniqueId this repository does not hold
            errors.append(RegistryError(ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR, f"no document {uid}", uid))
            continue
        content = Attachment(
            blob.size, blob.hash, blob.mime_type, path=blob.path, content_id=f"{uuid.uuid4().hex}@xds.invalid"
        )
        documents.append(
            RetrievedDocument(
                repository_unique_id=store.repository_unique_id,
                document_unique_id=uid,
                mime_type=blob.mime_type,
                content=content,
                # ITI TF-2b 3.43.4.2.2: homeCommunityId is returned as the request carried it
                home_community_id=wanted.home_community_id,
            )
        )
    status = response_status(len(documents), len(errors))
    return RetrieveDocumentSetResponse(RegistryResponse(status, tuple(errors)), tuple(documents))
