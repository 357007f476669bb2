"""The WSDLs the services publish at ``?wsdl`` and the XSDs requests and responses are validated against.

The files live in ``schemas/`` at the repository root (``schemas/wsdl/*.wsdl``, ``schemas/xsd/*.xsd``); the
path is computed from this module's location, so a source checkout finds them without installation.
Schema loading never touches the network: every import is resolved to a file inside ``schemas/xsd``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from lxml import etree

from xds.errors import ErrorCode, RegistryError, SoapFault, SoapFaultCode, XdsError
from xds.vocabulary import NS_LCM, NS_QUERY, NS_RIM, NS_RS, NS_XDSB, NS_XDSI, NS_XOP


def _find_schema_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "schemas", here.parent / "schemas"):  # packaged copy first, then checkout
        if (candidate / "xsd" / "rim.xsd").is_file():
            return candidate
    return here.parent / "schemas"


SCHEMA_DIR: Path = _find_schema_dir()
XSD_DIR: Path = SCHEMA_DIR / "xsd"
WSDL_DIR: Path = SCHEMA_DIR / "wsdl"

WSDL_NAMES = ("registry", "repository", "imaging")
XSD_NAMES = ("rim", "rs", "lcm", "query", "xdsb", "xdsi", "xop", "xml")

# The top-level elements of every message the domain sends or receives (SOAP Body children).
MESSAGE_ROOTS = frozenset(
    {
        f"{{{NS_LCM}}}SubmitObjectsRequest",  # ITI TF-2b 3.42.4.1.2
        f"{{{NS_XDSB}}}ProvideAndRegisterDocumentSetRequest",  # ITI TF-2b 3.41.4.1.2
        f"{{{NS_RS}}}RegistryResponse",  # ITI TF-2b 3.41.4.2.2, 3.42.4.2.2
        f"{{{NS_QUERY}}}AdhocQueryRequest",  # ITI TF-2a 3.18.4.1.2
        f"{{{NS_QUERY}}}AdhocQueryResponse",  # ITI TF-2a 3.18.4.2.2
        f"{{{NS_XDSB}}}RetrieveDocumentSetRequest",  # ITI TF-2b 3.43.4.1.2
        f"{{{NS_XDSB}}}RetrieveDocumentSetResponse",  # ITI TF-2b 3.43.4.2.2, RAD TF-3 4.69.4.2.2
        f"{{{NS_XDSI}}}RetrieveImagingDocumentSetRequest",  # RAD TF-3 4.69.4.1.2
    }
)

_WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
_WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
_XS = "http://www.w3.org/2001/XMLSchema"


# --- file lookup -------------------------------------------------------------------------------------

def wsdl_path(name: str) -> Path:
    """Path of ``schemas/wsdl/<name>.wsdl``; ``name`` is one of WSDL_NAMES (".wsdl" optional)."""
    stem = name.removesuffix(".wsdl")
    if stem not in WSDL_NAMES:
        raise ValueError(f"unknown WSDL {name!r}; known: {', '.join(WSDL_NAMES)}")
    return WSDL_DIR / f"{stem}.wsdl"


def xsd_path(name: str) -> Path:
    """Path of ``schemas/xsd/<name>.xsd``; ``name`` is one of XSD_NAMES (".xsd" optional)."""
    stem = name.removesuffix(".xsd")
    if stem not in XSD_NAMES:
        raise ValueError(f"unknown XSD {name!r}; known: {', '.join(XSD_NAMES)}")
    return XSD_DIR / f"{stem}.xsd"


def _safe_parser(schema_imports: bool = False) -> etree.XMLParser:
    """DESIGN "Dependencies": no entities, no network, no huge trees; with ``schema_imports`` the parser
    also resolves xs:import/xs:include, to files in schemas/xsd only."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    if schema_imports:
        parser.resolvers.add(_LocalSchemaResolver())
    return parser


def _rewrite_imports(root: etree._Element, xsd_base: str | None) -> None:
    """Point every xs:import/xs:include at ``xsd_base + file name`` (for serving over HTTP)."""
    if xsd_base is None:
        return
    for el in root.iter(f"{{{_XS}}}import", f"{{{_XS}}}include"):
        location = el.get("schemaLocation")
        if location:
            el.set("schemaLocation", xsd_base + Path(location).name)


@lru_cache(maxsize=32)
def render_wsdl(name: str, address: str, xsd_base: str | None = None) -> bytes:
    """The WSDL with ``address`` as the location of every SOAP port (WSDL 1.1 3.8 / SOAP 1.2 binding).

    The address in the file is a placeholder (``http://localhost:8080/xds/...``). Schema imports stay
    relative (``../xsd/x.xsd``) unless ``xsd_base`` is given, in which case they become ``xsd_base + "x.xsd"``
    (e.g. ``"http://host:8080/xds/registry?xsd="``) so that a client that fetched the WSDL over HTTP can
    fetch the schemas too; serve them with ``render_xsd(name, xsd_base)``.
    """
    tree = etree.parse(str(wsdl_path(name)), _safe_parser())
    root = tree.getroot()
    ports = list(root.iter(f"{{{_WSDL_SOAP12}}}address", f"{{{_WSDL_SOAP11}}}address"))
    if not ports:
        raise ValueError(f"{name}: WSDL has no SOAP address to fill in")
    for port in ports:
        port.set("location", address)
    _rewrite_imports(root, xsd_base)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


@lru_cache(maxsize=32)
def render_xsd(name: str, xsd_base: str | None = None) -> bytes:
    """One of our XSDs, with its imports rewritten against ``xsd_base`` when given (see render_wsdl)."""
    tree = etree.parse(str(xsd_path(name)), _safe_parser())
    _rewrite_imports(tree.getroot(), xsd_base)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


@dataclass(frozen=True)
class PublishedWsdl:
    """What a SOAP endpoint serves for GET: our WSDL ``name`` with its port at the endpoint's URL, and the
    XSDs it imports at ``<endpoint>?xsd=<file>`` (a client that only knows the endpoint gets everything)."""

    name: str

    def wsdl(self, endpoint_url: str) -> bytes:
        return render_wsdl(self.name, endpoint_url, endpoint_url + "?xsd=")

    def xsd(self, name: str, endpoint_url: str) -> bytes:
        if name.removesuffix(".xsd") not in XSD_NAMES:
            raise LookupError(name)
        return render_xsd(name, endpoint_url + "?xsd=")


# --- schema loading ----------------------------------------------------------------------------------

class _LocalSchemaResolver(etree.Resolver):
    """Resolves schema imports to files in schemas/xsd and refuses everything else (no network)."""

    def resolve(self, system_url, public_id, context):  # noqa: ANN001, ANN201 - lxml's signature
        path = _local_file(system_url)
        if path is None:
            raise OSError(f"schema import outside {XSD_DIR} refused: {system_url}")
        return self.resolve_filename(str(path), context)


def _local_file(url: str | None) -> Path | None:
    if not url:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in ("", "file"):
        return None
    path = Path(unquote(parsed.path) if parsed.scheme == "file" else url).resolve()
    xsd_dir = XSD_DIR.resolve()
    if path.parent != xsd_dir or not path.is_file():
        return None
    return path


def _combined_schema_source() -> bytes:
    imports = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{xsd_path(stem).name}"/>'
        for stem, ns in (
            ("rim", NS_RIM),
            ("rs", NS_RS),
            ("lcm", NS_LCM),
            ("query", NS_QUERY),
            ("xdsb", NS_XDSB),
            ("xdsi", NS_XDSI),
            ("xop", NS_XOP),
        )
    )
    return f'<xs:schema xmlns:xs="{_XS}">{imports}</xs:schema>'.encode()


_local = threading.local()


def _schema() -> etree.XMLSchema:
    """The combined schema, compiled once per thread (an XMLSchema's error log is not thread-safe)."""
    schema = getattr(_local, "schema", None)
    if schema is None:
        parser = _safe_parser(schema_imports=True)
        doc = etree.fromstring(_combined_schema_source(), parser, base_url=str(XSD_DIR / "combined.xsd"))
        schema = etree.XMLSchema(doc)
        _local.schema = schema
    return schema


# --- validation --------------------------------------------------------------------------------------

# XML Schema Part 2 3.2.16 base64Binary: alphabet, optional whitespace, at most two '=' at the end
_BASE64 = re.compile(r"[A-Za-z0-9+/\s]*(?:=\s*){0,2}", re.ASCII)
_WHITESPACE = " \t\r\n"


def _document_content_errors(element: etree._Element) -> list[str]:
    """What xdsb.xsd's mixed Document type cannot say: base64 text, or one xop:Include and no text.

    ITI TF-2x V.3.6 / XOP 1.0 3: with MTOM the base64 content is replaced by a single xop:Include.
    """
    errors = []
    for doc in element.iter(f"{{{NS_XDSB}}}Document"):
        children = [child for child in doc if isinstance(child.tag, str)]
        texts = [doc.text or "", *(child.tail or "" for child in doc)]
        if children:
            if any(text.strip() for text in texts):
                errors.append(f"line {doc.sourceline}: Document has both xop:Include and text content")
            continue
        text = texts[0]
        significant = len(text) - sum(text.count(c) for c in _WHITESPACE)
        if significant % 4 or not _BASE64.fullmatch(text):
            errors.append(f"line {doc.sourceline}: Document content is not valid base64Binary")
    return errors


def _qualified(name: str | etree.QName) -> str:
    return name.text if isinstance(name, etree.QName) else name


def validate(
    element: etree._Element | etree._ElementTree, root: str | etree.QName | None = None
) -> list[str]:
    """Schema errors of a message (empty list = valid); ``root`` (Clark name) pins the expected element.

    ``element`` may sit inside a larger tree (the child of a SOAP Body); only its subtree is validated.
    """
    if isinstance(element, etree._ElementTree):
        element = element.getroot()
    if root is not None and element.tag != _qualified(root):
        return [f"line {element.sourceline}: expected {_qualified(root)}, found {element.tag}"]
    schema = _schema()
    errors: list[str] = []
    if not schema.validate(element):
        errors = [f"line {entry.line}: {entry.message}" for entry in schema.error_log]
    return errors + _document_content_errors(element)


def validator(root: str | etree.QName) -> Callable[[etree._Element], list[str]]:
    """A validate() bound to one expected message element."""
    expected = _qualified(root)

    def check(element: etree._Element) -> list[str]:
        return validate(element, expected)

    return check


def validate_or_raise(
    element: etree._Element,
    root: str | etree.QName | None = None,
    code: ErrorCode = ErrorCode.XDS_REGISTRY_METADATA_ERROR,
) -> None:
    """Raise XdsError(code) with one RegistryError per schema error.

    ITI TF-3 4.2.4.1: a registry reports malformed metadata as XDSRegistryMetadataError; a repository
    passes ``ErrorCode.XDS_REPOSITORY_METADATA_ERROR``.
    """
    errors = validate(element, root)
    if errors:
        raise XdsError.collect([RegistryError(code, message) for message in errors])


def validate_or_fault(element: etree._Element, root: str | etree.QName | None = None) -> None:
    """Raise a SOAP Sender fault for a body that does not match the schema (SOAP 1.2 Part 1 5.4.6)."""
    errors = validate(element, root)
    if errors:
        raise SoapFault(SoapFaultCode.SENDER, "message does not validate: " + "; ".join(errors[:5]))
