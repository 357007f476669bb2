"""RAD-69 Retrieve Imaging Document Set as the Imaging Document Consumer (RAD TF-3 4.69).

The request names each instance under its study and series, with the Imaging Document Source's uniqueId
(the manifest's Retrieve Location UID) as RepositoryUniqueId (RAD TF-3 4.69.4.1.2); the answer is the ITI-43
response with the instances as MTOM/XOP parts (RAD TF-3 4.69.4.2.2, ITI TF-2b 3.43.4.2), spooled to disk
part by part by the SOAP client and renamed into place.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from pathlib import Path

from consumer.imaging.config import Sources
from consumer.imaging.fetched import Fetched, chunks
from consumer.imaging.manifest import InstanceRef
from consumer.progress import Progress, http_client
from consumer.retrieve import Wanted, remove_spool, spool_folder, store_reply
from xds.ebrim import imaging_retrieve_request_to_ebrim
from xds.errors import SoapFault
from xds.model import DocumentRequest, RetrieveImagingDocumentSetRequest, SeriesRequest, StudyRequest
from xds.soap import SoapClient, TransportError
from xds.transactions import Transaction

PATH = "/xds/imaging"
# RAD TF-3 4.69.4.1.2: the transfer syntaxes this consumer takes, most wanted first. It only stores and
# forwards, so every common one is listed: the source sends each instance as it holds it where it can.
TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.4.70",  # JPEG Lossless, SV1
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 lossless
    "1.2.840.10008.1.2.4.91",  # JPEG 2000
    "1.2.840.10008.1.2.4.80",  # JPEG-LS lossless
    "1.2.840.10008.1.2.5",  # RLE Lossless
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
)
BATCH = 100


def request(refs: Sequence[InstanceRef]) -> RetrieveImagingDocumentSetRequest:
    studies = []
    for study_uid, in_study in groupby(refs, key=lambda r: r.study_uid):
        series = []
        for series_uid, members in groupby(list(in_study), key=lambda r: r.series_uid):
            docs = tuple(DocumentRequest(r.retrieve_location_uid, r.sop_instance_uid) for r in members)
            series.append(SeriesRequest(series_uid, docs))
        studies.append(StudyRequest(study_uid, tuple(series)))
    return RetrieveImagingDocumentSetRequest(tuple(studies), TRANSFER_SYNTAXES)


def fetch_rad69(
    refs: Sequence[InstanceRef], folder: Path, sources: Sources, *, timeout: float = 300.0,
    progress: Progress | None = None,
) -> Fetched:
    result = Fetched()
    ordered = sorted(refs, key=lambda r: (r.retrieve_location_uid, r.study_uid, r.series_uid))
    spool = spool_folder(folder)
    try:
        with SoapClient(spool_dir=spool, http=http_client(timeout, progress)) as soap:
            for location, group in groupby(ordered, key=lambda r: r.retrieve_location_uid):
                url = sources.base_url(location) + PATH
                for batch in chunks(list(group), BATCH):
                    result.merge(_one(soap, url, batch, folder))
                    if progress is not None:
                        progress.advance(sum(1 for r in batch if r.sop_instance_uid in result.files))
    finally:
        remove_spool(spool)
    return result


def _one(soap: SoapClient, url: str, batch: Sequence[InstanceRef], folder: Path) -> Fetched:
    try:
        reply = soap.call(url, Transaction.RAD_69, imaging_retrieve_request_to_ebrim(request(batch)))
    except TransportError as exc:
        raise ConnectionError(f"cannot reach the Imaging Document Source at {url}: {exc}") from exc
    except SoapFault as exc:
        return Fetched(errors={r.sop_instance_uid: f"RAD-69 SOAP fault: {exc.reason}" for r in batch})
    wanted = [Wanted(DocumentRequest(r.retrieve_location_uid, r.sop_instance_uid)) for r in batch]
    files, errors = store_reply(reply, wanted, folder)
    out = Fetched(files={f.unique_id: f.path for f in files})
    asked = {r.sop_instance_uid for r in batch}
    general = []
    for e in errors:
        # RAD TF-3 4.69.4.2.3: an error names the instance (or the repository) in its location
        if e.location in asked:
            out.errors[e.location] = f"RAD-69 {e.code}: {e.context}"
        else:
            general.append(f"RAD-69 {e.code}: {e.context}")
    for uid in asked - out.files.keys() - out.errors.keys():
        out.errors[uid] = "; ".join(general) or "RAD-69: not in the answer"
    return out
