"""ITI-43 Retrieve Document Set for many documents, streamed into a folder (ITI TF-2b 3.43).

The SOAP client spools each MTOM part to a file next to the output folder while hashing it; a part whose
size or SHA-1 differs from its DocumentEntry is dropped, the others are renamed into place. Memory does not
grow with document size (DESIGN principle 7).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from consumer.files import file_name
from xds.ebrim import retrieve_request_to_ebrim, retrieve_response_from_ebrim
from xds.errors import ErrorCode, RegistryError
from xds.model import DocumentEntry, DocumentRequest, RetrievedDocument, RetrieveDocumentSetRequest
from xds.soap import SoapReply
from xds.vocabulary import ResponseStatus


@dataclass(frozen=True, slots=True)
class RetrievedFile:
    unique_id: str
    repository_unique_id: str
    mime_type: str
    path: Path
    size: int
    sha1: str
    verified: bool  # size and hash were compared with the DocumentEntry (and matched)
    home_community_id: str | None = None


@dataclass(frozen=True, slots=True)
class RetrieveResult:
    files: tuple[RetrievedFile, ...]
    errors: tuple[RegistryError, ...] = ()  # documents not returned, or returned but failing the checks

    @property
    def status(self) -> ResponseStatus:
        # ITI TF-2b 3.43.4.2.3: Success, PartialSuccess when some documents came, Failure when none did
        if not self.errors:
            return ResponseStatus.SUCCESS
        return ResponseStatus.PARTIAL_SUCCESS if self.files else ResponseStatus.FAILURE


@dataclass(frozen=True, slots=True)
class Wanted:
    request: DocumentRequest
    entry: DocumentEntry | None = None  # known metadata: size and hash to check the document against


def batches(items: Sequence[Wanted], size: int) -> Iterator[Sequence[Wanted]]:
    for start in range(0, len(items), max(size, 1)):
        yield items[start : start + size]


def _mismatch(doc: RetrievedDocument, entry: DocumentEntry | None) -> RegistryError | None:
    if entry is None:
        return None
    uid = doc.document_unique_id
    # ITI TF-3 4.2.3.2.25 size and 4.2.3.2.11 hash describe the stored document byte for byte
    if entry.size is not None and entry.size != doc.content.size:
        why = f"{uid}: {doc.content.size} bytes arrived, the DocumentEntry says {entry.size}"
        return RegistryError(ErrorCode.XDS_NON_IDENTICAL_SIZE, why, uid)
    if entry.hash and entry.hash.lower() != doc.content.sha1:
        why = f"{uid}: SHA-1 {doc.content.sha1} arrived, the DocumentEntry says {entry.hash.lower()}"
        return RegistryError(ErrorCode.XDS_NON_IDENTICAL_HASH, why, uid)
    return None


def _place(doc: RetrievedDocument, target: Path) -> None:
    """Move the spooled part (or write the small in-memory one) to ``target``, replacing it atomically."""
    content = doc.content
    if content.path is not None:
        try:
            os.replace(content.path, target)
            return
        except OSError:
            pass  # another file system: copy below
    fd, tmp = tempfile.mkstemp(prefix=".part-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in content.iter_chunks():
                out.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def store_reply(
    reply: SoapReply, wanted: Sequence[Wanted], out_dir: Path
) -> tuple[list[RetrievedFile], list[RegistryError]]:
    """The files of one ITI-43 answer, checked against their entries and put into ``out_dir``."""
    try:
        response = retrieve_response_from_ebrim(reply.body, reply.attachments)
        entries = {(w.request.repository_unique_id, w.request.document_unique_id): w.entry for w in wanted}
        files: list[RetrievedFile] = []
        errors = list(response.response.errors)
        for doc in response.documents:
            entry = entries.get((doc.repository_unique_id, doc.document_unique_id))
            problem = _mismatch(doc, entry)
            if problem is not None:
                errors.append(problem)
                continue
            target = out_dir / file_name(doc.document_unique_id, doc.mime_type)
            _place(doc, target)
            verified = entry is not None and entry.size is not None and bool(entry.hash)
            files.append(
                RetrievedFile(
                    doc.document_unique_id, doc.repository_unique_id, doc.mime_type, target,
                    doc.content.size, doc.content.sha1, verified, doc.home_community_id,
                )
            )
        return files, errors
    finally:
        reply.discard()


def request_body(wanted: Iterable[Wanted]):  # noqa: ANN201 - an lxml element
    return retrieve_request_to_ebrim(RetrieveDocumentSetRequest(tuple(w.request for w in wanted)))


def spool_folder(out_dir: Path) -> Path:
    """Parts spool inside the output folder, so that placing a file is a rename."""
    folder = out_dir / ".xds-spool"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def remove_spool(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
