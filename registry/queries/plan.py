"""What a stored query selects, before it runs: conditions on registry_object, and which checks apply."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import ColumnElement
from sqlalchemy.sql.selectable import Alias

from registry.tables import registry_object

ro = registry_object


@cache
def alias(name: str) -> Alias:
    """``registry_object AS name`` for sub-selects. Built once: an alias proxies every column of the wide
    table, which costs more than the rest of a query's construction; SQL expressions are immutable, so
    one alias object serves every statement."""
    made = registry_object.alias(name)
    made.c  # noqa: B018 - build the column collection now
    return made


@dataclass(frozen=True, slots=True)
class Plan:
    """The answer is every registry_object row that matches at least one branch (each a WHERE on ``ro``)."""

    branches: tuple[ColumnElement[bool], ...]
    # ITI TF-2a 3.18.4.1.3 XDSResultNotSinglePatient, by the footnotes of GetDocuments, GetFolders,
    # GetDocumentsAndAssociations, GetSubmissionSets, GetSubmissionSetAndContents and GetFolderAndContents:
    # their LeafClass answer holds one patient's metadata; the other queries have no such rule
    single_patient: bool = True
