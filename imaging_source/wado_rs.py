"""RAD-107 WADO-RS Retrieve (DICOM PS3.18 10.4, the Studies Service): study, series and instance resources as
``multipart/related; type="application/dicom"``, their metadata as ``application/dicom+json`` (PS3.18
F.2), and the bulk data the metadata points to. Status codes: PS3.18 Table 10.4.3-1 (400, 404, 406).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from pydicom import dcmread
from pydicom.dataelem import DataElement
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from imaging_source.instance_meta import valid_uid
from imaging_source.store import InstanceStore, StoredInstance
from imaging_source.transcode import CannotTranscode, deliver
from imaging_source.vocabulary import EXPLICIT_VR_LE
from xds.files import read_blocks

PREFIX = "/dicomweb"
DICOM = "application/dicom"
DICOM_JSON = "application/dicom+json"
BULK_THRESHOLD = 1024


class RsError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _params(text: str) -> tuple[str, dict[str, str]]:
    media, *rest = [p.strip() for p in text.split(";")]
    params = {}
    for item in rest:
        key, _, value = item.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return media.lower(), params


def acceptable_syntaxes(accept: str | None) -> list[str]:
    """PS3.18 8.7.3.5.2 / 8.7.4: the transfer syntaxes the Accept header allows for application/dicom
    parts ("*" any; Explicit VR Little Endian by default). RsError 406 when it accepts no DICOM part."""
    if not accept:
        return [EXPLICIT_VR_LE]
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept.split(",")):
        media, params = _params(item)
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            quality = 1.0
        if quality <= 0:
            continue
        if media == "multipart/related" and params.get("type", "").lower() in (DICOM, ""):
            ranked.append((-quality, position, params.get("transfer-syntax", EXPLICIT_VR_LE)))
        elif media in ("*/*", "multipart/*"):
            ranked.append((-quality, position, EXPLICIT_VR_LE))
    if not ranked:
        raise RsError(406, f'Accept {accept!r} names no multipart/related; type="application/dicom"')
    return [ts for _, _, ts in sorted(ranked)]


def _check_uids(*uids: str) -> None:
    for uid in uids:
        if not valid_uid(uid):
            raise RsError(400, f"{uid!r} is not a UID")


async def _multipart(parts: Sequence[tuple[Path, str]], boundary: str) -> AsyncIterator[bytes]:
    # RFC 2387 / PS3.18 8.7.3.5: one application/dicom part per instance, with its transfer syntax
    for path, ts in parts:
        yield f"--{boundary}\r\nContent-Type: {DICOM}; transfer-syntax={ts}\r\n\r\n".encode("ascii")
        async for chunk in read_blocks(functools.partial(path.open, "rb")):
            yield chunk
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode("ascii")


@dataclass
class WadoRs:
    store: InstanceStore

    def _instances(
        self, study: str, series: str | None = None, instance: str | None = None
    ) -> list[StoredInstance]:
        _check_uids(*(u for u in (study, series, instance) if u is not None))
        if instance is not None:
            found = self.store.find_instances(sop_uids=[instance])
            found = [i for i in found if i.study_uid == study and i.series_uid == series]
        else:
            found = self.store.find_instances(study_uid=study, series_uid=series)
        if not found:
            raise RsError(404, "no such resource")
        return found

    def _prepare(self, instances: list[StoredInstance], accept: str | None) -> list[tuple[Path, str]]:
        syntaxes = acceptable_syntaxes(accept)
        parts = []
        for inst in instances:
            wanted = [inst.transfer_syntax_uid if ts == "*" else ts for ts in syntaxes]
            try:
                parts.append(deliver(self.store, inst, wanted))
            except CannotTranscode as exc:
                raise RsError(406, f"{inst.sop_instance_uid}: {exc}") from exc
        return parts

    async def retrieve(self, request: Request) -> Response:
        p = request.path_params
        try:
            instances = await anyio.to_thread.run_sync(
                lambda: self._instances(p["study"], p.get("series"), p.get("instance"))
            )
            parts = await anyio.to_thread.run_sync(self._prepare, instances, request.headers.get("accept"))
        except RsError as exc:
            return PlainTextResponse(exc.reason, status_code=exc.status)
        boundary = uuid.uuid4().hex
        return StreamingResponse(
            _multipart(parts, boundary),
            media_type=f'multipart/related; type="{DICOM}"; boundary={boundary}',
        )

    def _metadata(self, instances: list[StoredInstance], base: str) -> bytes:
        out = []
        for inst in instances:
            ds = dcmread(inst.path)
            uri = (
                f"{base}/studies/{inst.study_uid}/series/{inst.series_uid}/instances/{inst.sop_instance_uid}"
            )

            def bulk(elem: DataElement, uri: str = uri) -> str:
                # PS3.18 F.2.6: large values are left out and named by a BulkDataURI
                return f"{uri}/bulkdata/{elem.tag:08X}"

            out.append(ds.to_json_dict(bulk_data_threshold=BULK_THRESHOLD, bulk_data_element_handler=bulk))
        return json.dumps(out).encode("utf-8")

    async def metadata(self, request: Request) -> Response:
        p = request.path_params
        base = str(request.base_url).rstrip("/") + PREFIX
        try:
            instances = await anyio.to_thread.run_sync(
                lambda: self._instances(p["study"], p.get("series"), p.get("instance"))
            )
            accept = request.headers.get("accept", "")
            if accept and not any(
                _params(a)[0] in (DICOM_JSON, "application/json", "*/*", "application/*")
                for a in accept.split(",")
            ):
                raise RsError(406, f"metadata is {DICOM_JSON}")
            body = await anyio.to_thread.run_sync(self._metadata, instances, base)
        except RsError as exc:
            return PlainTextResponse(exc.reason, status_code=exc.status)
        return Response(body, media_type=DICOM_JSON)

    def _bulk(self, study: str, series: str, instance: str, tag: str) -> bytes:
        found = self._instances(study, series, instance)
        try:
            number = int(tag, 16)
        except ValueError as exc:
            raise RsError(400, f"{tag!r} is not a tag") from exc
        ds = dcmread(found[0].path)
        if number not in ds:
            raise RsError(404, f"no element {tag}")
        value = ds[number].value
        return value if isinstance(value, bytes) else str(value).encode("utf-8")

    async def bulkdata(self, request: Request) -> Response:
        p = request.path_params
        try:
            value = await anyio.to_thread.run_sync(
                lambda: self._bulk(p["study"], p["series"], p["instance"], p["tag"])
            )
        except RsError as exc:
            return PlainTextResponse(exc.reason, status_code=exc.status)
        boundary = uuid.uuid4().hex
        # PS3.18 8.7.3.5.1: bulk data as multipart/related; type="application/octet-stream"
        body = (
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n".encode("ascii")
            + value
            + f"\r\n--{boundary}--\r\n".encode("ascii")
        )
        return Response(
            body, media_type=f'multipart/related; type="application/octet-stream"; boundary={boundary}'
        )

    def routes(self) -> list[Route]:
        study = PREFIX + "/studies/{study}"
        series = study + "/series/{series}"
        instance = series + "/instances/{instance}"
        return [
            Route(study, self.retrieve, methods=["GET"]),
            Route(series, self.retrieve, methods=["GET"]),
            Route(instance, self.retrieve, methods=["GET"]),
            Route(study + "/metadata", self.metadata, methods=["GET"]),
            Route(series + "/metadata", self.metadata, methods=["GET"]),
            Route(instance + "/metadata", self.metadata, methods=["GET"]),
            Route(instance + "/bulkdata/{tag}", self.bulkdata, methods=["GET"]),
        ]
