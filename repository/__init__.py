"""Document Repository: ITI-41 Provide and Register (streaming MTOM) forwarded as ITI-42, ITI-43 Retrieve,
and a blob store that never serves a document the registry did not accept nor keeps one it rejected."""

from repository.files import BlobFolders
from repository.iti41 import ProvideAndRegister
from repository.iti43 import retrieve
from repository.registry_link import RegistryLink, RegistryUnavailable, registry_url
from repository.service import PATH, Repository, service
from repository.store import BlobStore, NewDocument, Staged, StoredBlob
from repository.sweep import Sweeper
from repository.tables import PENDING, REGISTERED, document_blob, metadata

__all__ = [
    "PATH",
    "PENDING",
    "REGISTERED",
    "BlobFolders",
    "BlobStore",
    "NewDocument",
    "ProvideAndRegister",
    "RegistryLink",
    "RegistryUnavailable",
    "Repository",
    "Staged",
    "StoredBlob",
    "Sweeper",
    "document_blob",
    "metadata",
    "registry_url",
    "retrieve",
    "service",
]
