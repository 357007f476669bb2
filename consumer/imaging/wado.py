"""WADO as the Imaging Document Consumer: RAD-55 WADO-URI, one instance per GET (DICOM PS3.18 9, formerly
"URI Service", with ``contentType=application/dicom``), and RAD-107 WADO-RS, one series per GET as
``multipart/related; type="application/dicom"`` (DICOM PS3.18 10.4 Retrieve Transaction, 8.7.3.5 multipart
payload). Bodies stream to files in the folder; the multipart body goes through the project's sans-IO
parser (xds.mtom.multipart), part by part, so memory does not grow with the study.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import httpx

from consumer.imaging.config import Sources
from consumer.imaging.fetched import Fetched, by_series
from consumer.imaging.manifest import InstanceRef
from consumer.imaging.verify import sop_instance_uid
from consumer.progress import Progress, http_client
from xds.mtom import MtomError, MultipartParser, PartData, PartEnd, PartStart, parse_content_type

WADO_URI_PATH = "/wado"
WADO_RS_PATH = "/dicomweb"
# PS3.18 8.7.3.5.2: "*" asks for each instance in the transfer syntax it is held in (no transcoding)
RS_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*'


def _unreachable(url: str, exc: Exception) -> ConnectionError:
    return ConnectionError(f"cannot reach the Imaging Document Source at {url}: {exc}")


def _new_file(folder: Path) -> tuple[BinaryIO, Path]:
    fd, name = tempfile.mkstemp(prefix=".part-", suffix=".dcm", dir=folder)
    return os.fdopen(fd, "wb"), Path(name)


# --- RAD-55 WADO-URI ----------------------------------------------------------------------------------------
def fetch_wado_uri(
    refs: Sequence[InstanceRef], folder: Path, sources: Sources, *, timeout: float = 300.0,
    progress: Progress | None = None,
) -> Fetched:
    result = Fetched()
    with http_client(timeout, progress) as http:
        for ref in refs:
            url = sources.base_url(ref.retrieve_location_uid) + WADO_URI_PATH
            # PS3.18 9.1.2 (requestType, studyUID, seriesUID, objectUID required; contentType for DICOM)
            params = {
                "requestType": "WADO",
                "studyUID": ref.study_uid,
                "seriesUID": ref.series_uid,
                "objectUID": ref.sop_instance_uid,
                "contentType": "application/dicom",
            }
            try:
                with http.stream("GET", url, params=params) as response:
                    if response.status_code != 200:
                        response.read()
                        why = response.text.strip()[:200] or response.reason_phrase
                        result.errors[ref.sop_instance_uid] = f"WADO-URI HTTP {response.status_code}: {why}"
                        continue
                    out, tmp = _new_file(folder)
                    with out:
                        for chunk in response.iter_bytes(1 << 20):
                            out.write(chunk)
            except httpx.TransportError as exc:
                raise _unreachable(url, exc) from exc
            _place(tmp, ref.sop_instance_uid, folder, result, "WADO-URI")
            if progress is not None and ref.sop_instance_uid in result.files:
                progress.advance()
    return result


def _place(tmp: Path, wanted: str, folder: Path, result: Fetched, how: str) -> None:
    uid = sop_instance_uid(tmp)
    if uid != wanted:
        tmp.unlink(missing_ok=True)
        result.errors[wanted] = f"{how}: the answer is instance {uid or '(not DICOM)'}, not the one asked for"
        return
    target = folder / f"{uid}.dcm"
    os.replace(tmp, target)
    result.files[uid] = target


# --- RAD-107 WADO-RS ---------------------------------------------------------------------------------------
def series_url(ref: InstanceRef, sources: Sources) -> str:
    """The manifest's Retrieve URL (PS3.3 C.4.23.1.1: of the study or the series) when it has one, else the
    source's Studies Service."""
    series = f"/series/{ref.series_uid}"
    if ref.retrieve_url:
        url = ref.retrieve_url.rstrip("/")
        return url if url.endswith(series) else url + series
    base = sources.base_url(ref.retrieve_location_uid) + WADO_RS_PATH
    return f"{base}/studies/{ref.study_uid}{series}"


def fetch_wado_rs(
    refs: Sequence[InstanceRef], folder: Path, sources: Sources, *, timeout: float = 300.0,
    progress: Progress | None = None,
) -> Fetched:
    result = Fetched()
    with http_client(timeout, progress) as http:
        for _key, members in by_series(refs):
            url = series_url(members[0], sources)
            wanted = {r.sop_instance_uid for r in members}
            try:
                got = _series(http, url, wanted, folder, progress)
            except httpx.TransportError as exc:
                raise _unreachable(url, exc) from exc
            result.merge(got)
            for uid in wanted - got.files.keys() - got.errors.keys():
                result.errors[uid] = "WADO-RS: not in the series the source returned"
    return result


def _series(
    http: httpx.Client, url: str, wanted: set[str], folder: Path, progress: Progress | None
) -> Fetched:
    result = Fetched()
    with http.stream("GET", url, headers={"Accept": RS_ACCEPT}) as response:
        if response.status_code != 200:
            response.read()
            why = response.text.strip()[:200] or response.reason_phrase
            return Fetched(errors={uid: f"WADO-RS HTTP {response.status_code}: {why}" for uid in wanted})
        media, params = parse_content_type(response.headers.get("content-type", ""))
        if media != "multipart/related" or not params.get("boundary"):
            return Fetched(errors={uid: f"WADO-RS: the answer is {media or 'untyped'}" for uid in wanted})
        parser = MultipartParser(params["boundary"].encode("ascii"), max_parts=1_000_000)
        current: tuple[BinaryIO, Path] | None = None
        try:
            for chunk in response.iter_bytes(1 << 20):
                for event in parser.feed(chunk):
                    if isinstance(event, PartStart):
                        current = _new_file(folder)
                    elif isinstance(event, PartData) and current is not None:
                        current[0].write(event.data)
                    elif isinstance(event, PartEnd) and current is not None:
                        current[0].close()
                        _part_done(current[1], wanted, folder, result, progress)
                        current = None
            parser.close()
        except MtomError as exc:
            for uid in wanted - result.files.keys():
                result.errors[uid] = f"WADO-RS: broken multipart answer ({exc})"
        finally:
            if current is not None:
                current[0].close()
                current[1].unlink(missing_ok=True)
    return result


def _part_done(tmp: Path, wanted: set[str], folder: Path, result: Fetched, progress: Progress | None) -> None:
    uid = sop_instance_uid(tmp)
    if uid not in wanted:
        tmp.unlink(missing_ok=True)  # an instance of the series the manifest does not reference
        return
    target = folder / f"{uid}.dcm"
    os.replace(tmp, target)
    result.files[uid] = target
    if progress is not None:
        progress.advance()
