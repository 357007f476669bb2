"""RAD-69 Retrieve Imaging Document Set at the Imaging Document Source (RAD TF-3 4.69).

Each DocumentRequest (a SOP Instance UID under its study and series) is answered on its own: the instance
as an MTOM part in the first requested transfer syntax that can be delivered, or a RegistryError with the
instance UID as location. The answer is the ITI-43 response (RAD TF-3 4.69.4.2.2), streamed from files.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import anyio.to_thread

from imaging_source.config import ImagingConfig
from imaging_source.store import InstanceStore
from imaging_source.transcode import CannotTranscode, deliver
from xds.errors import ErrorCode, RegistryError, XdsError
from xds.model import (
    Attachment,
    RegistryResponse,
    RetrievedDocument,
    RetrieveDocumentSetResponse,
    RetrieveImagingDocumentSetRequest,
)
from xds.vocabulary import MIME_TYPE_DICOM, ResponseStatus


def response_status(found: int, errors: int) -> ResponseStatus:
    # ITI TF-2b 3.43.4.2.3 (RAD TF-3 4.69.4.2.3 inherits it): Success, PartialSuccess, or Failure
    if not errors:
        return ResponseStatus.SUCCESS
    return ResponseStatus.PARTIAL_SUCCESS if found else ResponseStatus.FAILURE


@dataclass
class ImagingRetrieve:
    store: InstanceStore
    config: ImagingConfig

    async def __call__(self, request: RetrieveImagingDocumentSetRequest) -> RetrieveDocumentSetResponse:
        return await anyio.to_thread.run_sync(self.answer, request)

    def answer(self, request: RetrieveImagingDocumentSetRequest) -> RetrieveDocumentSetResponse:
        # RAD TF-3 4.69.4.1.2: the request lists one or more transfer syntaxes the consumer can process
        syntaxes = [ts for ts in request.transfer_syntax_uids if ts]
        if not syntaxes:
            raise XdsError(ErrorCode.XDS_REPOSITORY_METADATA_ERROR, "TransferSyntaxUIDList names no syntax")
        wanted = [
            (study.study_instance_uid, series.series_instance_uid, doc)
            for study in request.studies
            for series in study.series
            for doc in series.documents
        ]
        if not wanted:
            raise XdsError(ErrorCode.XDS_REPOSITORY_METADATA_ERROR, "the request names no DocumentRequest")
        held = {
            inst.sop_instance_uid: inst
            for inst in self.store.find_instances(sop_uids=[doc.document_unique_id for _, _, doc in wanted])
        }
        documents: list[RetrievedDocument] = []
        errors: list[RegistryError] = []
        for study_uid, series_uid, doc in wanted:
            uid = doc.document_unique_id
            if doc.repository_unique_id != self.config.source_unique_id:
                # ITI TF-2b 3.43.4.1.3: a RepositoryUniqueId that is not this source's
                errors.append(
                    RegistryError(
                        ErrorCode.XDS_UNKNOWN_REPOSITORY_ID,
                        f"{doc.repository_unique_id} is not this Imaging Document Source",
                        doc.repository_unique_id,
                    )
                )
                continue
            inst = held.get(uid)
            if inst is None or inst.study_uid != study_uid or inst.series_uid != series_uid:
                # RAD TF-3 4.69.4.2.3 / ITI TF-2b 3.43.4.1.3: an instance not held (under that study/series)
                errors.append(
                    RegistryError(
                        ErrorCode.XDS_DOCUMENT_UNIQUE_ID_ERROR,
                        f"no instance {uid} in series {series_uid}",
                        uid,
                    )
                )
                continue
            try:
                path, _ts = deliver(self.store, inst, syntaxes)
            except CannotTranscode as exc:
                # RAD TF-3 4.69.4.2.3: pixel data in one of the requested syntaxes, or an error
                errors.append(
                    RegistryError(ErrorCode.XDS_RETRIEVE_TRANSFER_SYNTAX_NOT_SUPPORTED, str(exc), uid)
                )
                continue
            content = Attachment(
                path.stat().st_size,
                "",
                MIME_TYPE_DICOM,
                path=path,
                content_id=f"{uuid.uuid4().hex}@xdsi.invalid",
            )
            documents.append(
                RetrievedDocument(
                    repository_unique_id=self.config.source_unique_id,
                    document_unique_id=uid,
                    mime_type=MIME_TYPE_DICOM,
                    content=content,
                    home_community_id=doc.home_community_id,
                )
            )
        status = response_status(len(documents), len(errors))
        return RetrieveDocumentSetResponse(RegistryResponse(status, tuple(errors)), tuple(documents))
