"""Reason codes for quarantined records: stable identifiers that staff, suppliers and dashboards can rely on."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    INVALID_PERSON_CODE = "INVALID_PERSON_CODE"
    UNKNOWN_ADDRESS = "UNKNOWN_ADDRESS"
    DUPLICATE_PERSON = "DUPLICATE_PERSON"
    NEGATIVE_AMOUNT = "NEGATIVE_AMOUNT"
    BAD_AMOUNT = "BAD_AMOUNT"
    BAD_PERIOD = "BAD_PERIOD"
    BAD_DATE = "BAD_DATE"
    DUPLICATE_MONTH = "DUPLICATE_MONTH"
    DUPLICATE_OBJECT = "DUPLICATE_OBJECT"
    UNKNOWN_ENUM = "UNKNOWN_ENUM"
    MISSING_VALUE = "MISSING_VALUE"
    INVALID_REG_NO = "INVALID_REG_NO"
    INVALID_ARIS_CODE = "INVALID_ARIS_CODE"
