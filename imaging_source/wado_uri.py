"""RAD-55 WADO-URI: ``GET /wado?requestType=WADO&studyUID=..&seriesUID=..&objectUID=..`` (DICOM PS3.18 9,
the URI Service; status codes PS3.18 8.5 / Table 9.4.x: 400 bad parameters, 404 unknown object, 406 no
acceptable media type or transfer syntax).

application/dicom returns the PS3.10 file (as stored, hence byte-identical, when its transfer syntax is the
requested one); image/jpeg renders one frame with windowing (imaging_source.render).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from imaging_source.instance_meta import valid_uid
from imaging_source.render import CannotRender, RenderOptions, render_jpeg
from imaging_source.store import InstanceStore, StoredInstance
from imaging_source.transcode import CannotTranscode, deliver
from imaging_source.vocabulary import EXPLICIT_VR_LE

DICOM = "application/dicom"
JPEG = "image/jpeg"
SUPPORTED = (DICOM, JPEG)
# PS3.18 9.4.1: the parameters that only make sense for a rendered image
RENDER_ONLY = (
    "rows",
    "columns",
    "windowCenter",
    "windowWidth",
    "region",
    "imageQuality",
    "frameNumber",
    "annotation",
)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class WadoError(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _accepted_types(value: str | None, has_pixels: bool) -> list[str]:
    # PS3.18 9.4.1.x contentType: a list of media types with optional q values; default image/jpeg for
    # images and application/dicom for everything else
    if not value:
        return [JPEG if has_pixels else DICOM]
    ranked = []
    for position, item in enumerate(value.split(",")):
        media, *params = [p.strip() for p in item.split(";")]
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError as exc:
                    raise WadoError(400, f"contentType: bad q value in {item!r}") from exc
        ranked.append((-quality, position, media.lower()))
    return [media for _, _, media in sorted(ranked)]


def _int(params: dict[str, str], name: str, low: int = 1, high: int | None = None) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not value.isdigit() or int(value) < low or (high is not None and int(value) > high):
        raise WadoError(400, f"{name}={value!r} is not an integer in range")
    return int(value)


def _float(params: dict[str, str], name: str) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    if not _NUMBER.match(value):
        raise WadoError(400, f"{name}={value!r} is not a number")
    return float(value)


def render_options(params: dict[str, str]) -> RenderOptions:
    center, width = _float(params, "windowCenter"), _float(params, "windowWidth")
    # PS3.18 9.4.1: windowCenter and windowWidth come together (width at least 1)
    if (center is None) != (width is None) or (width is not None and width < 1):
        raise WadoError(400, "windowCenter and windowWidth go together, windowWidth >= 1")
    region = None
    if "region" in params:
        parts = params["region"].split(",")
        if len(parts) != 4 or not all(_NUMBER.match(p.strip()) for p in parts):
            raise WadoError(400, "region is xmin,ymin,xmax,ymax")
        x0, y0, x1, y1 = (float(p) for p in parts)
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise WadoError(400, "region values are fractions 0..1 with min < max")
        region = (x0, y0, x1, y1)
    return RenderOptions(
        frame=_int(params, "frameNumber") or 1,
        rows=_int(params, "rows"),
        columns=_int(params, "columns"),
        window_center=center,
        window_width=width,
        region=region,
        quality=_int(params, "imageQuality", 1, 100) or 90,
    )


@dataclass
class WadoUri:
    store: InstanceStore

    def _instance(self, params: dict[str, str]) -> StoredInstance:
        # PS3.18 9.4.1: requestType=WADO and the three UIDs are required
        if params.get("requestType") != "WADO":
            raise WadoError(400, "requestType must be WADO")
        uids = {name: params.get(name, "") for name in ("studyUID", "seriesUID", "objectUID")}
        for name, value in uids.items():
            if not valid_uid(value):
                raise WadoError(400, f"{name} is missing or not a UID")
        found = self.store.find_instances(sop_uids=[uids["objectUID"]])
        if not found or found[0].study_uid != uids["studyUID"] or found[0].series_uid != uids["seriesUID"]:
            raise WadoError(404, "no such object")
        return found[0]

    def answer(self, params: dict[str, str]) -> Response:
        inst = self._instance(params)
        for media in _accepted_types(params.get("contentType"), inst.has_pixels):
            if media in (DICOM, "*/*", "application/*"):
                return self._dicom(inst, params)
            if media in (JPEG, "image/*") and inst.has_pixels:
                return self._jpeg(inst, params)
        raise WadoError(406, f"none of {params.get('contentType')!r} can be returned for this object")

    def _dicom(self, inst: StoredInstance, params: dict[str, str]) -> Response:
        present = [name for name in RENDER_ONLY if name in params]
        if present:
            raise WadoError(400, f"{', '.join(present)} not allowed with application/dicom")
        # PS3.18 9.4.1 transferSyntax: default Explicit VR Little Endian; "*" takes the stored one
        wanted = params.get("transferSyntax") or EXPLICIT_VR_LE
        if wanted != "*" and not valid_uid(wanted):
            raise WadoError(400, "transferSyntax is not a UID")
        try:
            path, _ts = deliver(self.store, inst, [inst.transfer_syntax_uid if wanted == "*" else wanted])
        except CannotTranscode as exc:
            raise WadoError(406, f"transfer syntax {wanted} cannot be provided: {exc}") from exc
        return FileResponse(path, media_type=DICOM, filename=None)

    def _jpeg(self, inst: StoredInstance, params: dict[str, str]) -> Response:
        if "transferSyntax" in params:
            raise WadoError(400, "transferSyntax only with application/dicom")
        options = render_options(params)
        try:
            return Response(render_jpeg(inst.path, options), media_type=JPEG)
        except CannotRender as exc:
            raise WadoError(400 if "frame" in str(exc) else 406, f"cannot render: {exc}") from exc

    async def endpoint(self, request: Request) -> Response:
        params = dict(request.query_params)
        try:
            return await anyio.to_thread.run_sync(self.answer, params)
        except WadoError as exc:
            return PlainTextResponse(exc.reason, status_code=exc.status)
