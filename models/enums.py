"""Enumerations stored in the database and exposed through the API."""

from enum import StrEnum


class AccountMode(StrEnum):
    IT_DEPARTMENT = "IT_DEPARTMENT"
    MSP = "MSP"


class Role(StrEnum):
    ADMIN = "ADMIN"
    TECHNICIAN = "TECHNICIAN"


class UserSource(StrEnum):
    MANUAL = "MANUAL"
    ENTRA = "ENTRA"
