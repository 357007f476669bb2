"""Imaging Document Consumer (XDS-I.b): KOS manifests by ITI-18/ITI-43, instances by RAD-69, WADO-URI
(RAD-55), WADO-RS (RAD-107) or C-MOVE, written as a DICOM File-set or forwarded by C-STORE."""

from consumer.imaging.client import VIA, ImagesResult, ImagingConsumer, NoManifests, is_manifest
from consumer.imaging.config import Sources, receiver, with_consumer_destination
from consumer.imaging.fetched import Fetched
from consumer.imaging.forward import Forwarded, forward, parse_target
from consumer.imaging.manifest import InstanceRef, Manifest, ManifestError, read_manifest
from consumer.imaging.verify import Missing

__all__ = [
    "VIA",
    "Fetched",
    "Forwarded",
    "ImagesResult",
    "ImagingConsumer",
    "InstanceRef",
    "Manifest",
    "ManifestError",
    "Missing",
    "NoManifests",
    "Sources",
    "forward",
    "is_manifest",
    "parse_target",
    "read_manifest",
    "receiver",
    "with_consumer_destination",
]
