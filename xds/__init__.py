"""Shared core of the affinity domain: model, ebRIM codec, vocabulary, validation, errors, SOAP/MTOM."""

__version__ = "0.1.0"
