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


DESCRIPTIONS: dict[Reason, str] = {
    Reason.INVALID_PERSON_CODE: "personal code fails the format, date or check-digit rule (CONTRACTS §3)",
    Reason.UNKNOWN_ADDRESS: "address code is not an existing (EKS) ARIS address",
    Reason.DUPLICATE_PERSON: "the same personal code appears more than once",
    Reason.NEGATIVE_AMOUNT: "amount is negative",
    Reason.BAD_AMOUNT: "amount is not a number with at most 2 decimals",
    Reason.BAD_PERIOD: "month or period is not a real YYYY-MM, or the period ends before it starts",
    Reason.BAD_DATE: "date or timestamp is not valid",
    Reason.DUPLICATE_MONTH: "the same person has more than one total for a month",
    Reason.DUPLICATE_OBJECT: "the same object_id appears more than once in the sender's files",
    Reason.UNKNOWN_ENUM: "value is not one of the contract's allowed values",
    Reason.MISSING_VALUE: "a required value is empty",
    Reason.INVALID_REG_NO: "company registration number is not 11 digits",
    Reason.INVALID_ARIS_CODE: "ARIS code is not 9 digits",
}
