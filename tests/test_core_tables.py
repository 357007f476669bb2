"""Vocabulary, error codes and transaction table: one definition each, spelled as the standard spells it."""

import re

from xds import vocabulary as v
from xds.errors import ErrorCode, RegistryError, XdsError
from xds.transactions import Transaction
from xds.vocabulary import Severity, StoredQuery

UUID_URN = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_fourteen_stored_queries_with_distinct_uuids():
    assert len(StoredQuery) == 14
    assert all(UUID_URN.match(q.value) for q in StoredQuery)
    assert len({q.value for q in StoredQuery}) == 14


def test_every_uuid_constant_is_well_formed_and_unique():
    uuids = {
        name: value
        for name, value in vars(v).items()
        if name.isupper() and isinstance(value, str) and value.startswith("urn:uuid:")
    }
    assert len(uuids) > 25
    assert all(UUID_URN.match(u) for u in uuids.values()), uuids
    assert len(set(uuids.values())) == len(uuids)


def test_error_codes_include_the_table_of_iti_tf3_4_2_4_1():
    required = {
        "XDSRegistryMetadataError", "XDSUnknownPatientId", "XDSPatientIdDoesNotMatch",
        "XDSDuplicateUniqueIdInRegistry", "XDSNonIdenticalHash", "XDSNonIdenticalSize",
        "XDSRepositoryMetadataError", "XDSMissingDocument", "XDSMissingDocumentMetadata",
        "XDSDocumentUniqueIdError", "XDSUnknownRepositoryId", "XDSTooManyResults",
        "XDSStoredQueryParamNumber", "XDSStoredQueryMissingParam", "XDSUnknownStoredQuery",
        "XDSResultNotSinglePatient", "XDSRegistryBusy", "XDSRegistryNotAvailable", "XDSRepositoryError",
        "XDSRegistryError", "XDSRegistryDuplicateUniqueIdInMessage", "XDSExtraMetadataNotSaved",
    }
    assert required <= {c.value for c in ErrorCode}


def test_xds_error_carries_all_findings():
    findings = [
        RegistryError(ErrorCode.XDS_REGISTRY_METADATA_ERROR, "classCode missing", "Document01"),
        RegistryError(ErrorCode.XDS_PATIENT_ID_DOES_NOT_MATCH, "x^^^&1.2&ISO"),
    ]
    exc = XdsError.collect(findings)
    assert exc.code == ErrorCode.XDS_REGISTRY_METADATA_ERROR
    assert exc.errors == tuple(findings)
    assert all(e.severity == Severity.ERROR for e in exc.errors)


def test_transactions_by_action():
    assert Transaction.by_action("urn:ihe:iti:2007:RegistryStoredQuery") is Transaction.ITI_18
    assert Transaction.by_action("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b") is Transaction.ITI_41
    assert Transaction.by_action("urn:ihe:rad:2009:RetrieveImagingDocumentSet") is Transaction.RAD_69
    assert Transaction.by_action("urn:example:unknown") is None
    # RAD TF-2 4.69: the RAD-69 response carries the ITI-43 response action
    assert Transaction.RAD_69.info.response_action == Transaction.ITI_43.info.response_action
