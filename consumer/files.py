"""File names and types: a document's file name from its uniqueId and mime type, and a file's mime type
from its extension."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

# the types of this domain first: mimetypes' answers vary between systems
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "application/dicom": ".dcm",
    "text/plain": ".txt",
    "text/xml": ".xml",
    "application/xml": ".xml",
    "application/hl7-v3+xml": ".xml",
    "text/html": ".html",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/tiff": ".tif",
    "application/fhir+xml": ".xml",
    "application/fhir+json": ".json",
    "application/json": ".json",
}
_XML_DIALECTS = ("text/xml", "application/hl7-v3+xml", "application/fhir+xml")
_TYPES = {ext: mime for mime, ext in _EXTENSIONS.items() if mime not in _XML_DIALECTS}
_TYPES |= {
    ".xml": "text/xml",
    ".dicom": "application/dicom",
    ".jpeg": "image/jpeg",
    ".tiff": "image/tiff",
    ".htm": "text/html",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def extension(mime_type: str) -> str:
    mime = mime_type.split(";")[0].strip().lower()
    return _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ".bin"


def file_name(unique_id: str, mime_type: str) -> str:
    """``<uniqueId><ext>``; characters that do not belong in a file name (``^`` of an OID^extension id,
    path separators) become ``_``."""
    return _UNSAFE.sub("_", unique_id) + extension(mime_type)


def mime_type(path: Path) -> str:
    ext = path.suffix.lower()
    return _TYPES.get(ext) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
