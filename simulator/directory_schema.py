"""The user and group properties the simulated Graph knows, with their defaults and default sets."""

from __future__ import annotations

from typing import Any

# Graph v1.0 user properties usable in a collection; value = what an unset property reads as.
# Collections are never null (`businessPhones: []`), scalars are null.
_USER_COLLECTIONS = (
    "assignedLicenses",
    "assignedPlans",
    "businessPhones",
    "identities",
    "imAddresses",
    "otherMails",
    "proxyAddresses",
)
_USER_SCALARS = (
    "id",
    "accountEnabled",
    "ageGroup",
    "city",
    "companyName",
    "consentProvidedForMinor",
    "country",
    "createdDateTime",
    "creationType",
    "deletedDateTime",
    "department",
    "displayName",
    "employeeHireDate",
    "employeeId",
    "employeeType",
    "externalUserState",
    "externalUserStateChangeDateTime",
    "faxNumber",
    "givenName",
    "isResourceAccount",
    "jobTitle",
    "lastPasswordChangeDateTime",
    "legalAgeGroupClassification",
    "mail",
    "mailNickname",
    "mobilePhone",
    "officeLocation",
    "onPremisesDistinguishedName",
    "onPremisesDomainName",
    "onPremisesImmutableId",
    "onPremisesLastSyncDateTime",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "onPremisesUserPrincipalName",
    "passwordPolicies",
    "postalCode",
    "preferredDataLocation",
    "preferredLanguage",
    "securityIdentifier",
    "showInAddressList",
    "signInActivity",
    "state",
    "streetAddress",
    "surname",
    "usageLocation",
    "userPrincipalName",
    "userType",
)
USER_PROPERTIES: dict[str, Any] = {name: None for name in _USER_SCALARS}
USER_PROPERTIES.update({name: () for name in _USER_COLLECTIONS})

# Selecting these on /users answers 501 NotImplemented (reference section 1).
USER_SINGLE_ONLY: frozenset[str] = frozenset(
    {
        "aboutMe",
        "birthday",
        "hireDate",
        "interests",
        "mySite",
        "pastProjects",
        "preferredName",
        "responsibilities",
        "schools",
        "skills",
        "mailboxSettings",
    }
)

# Returned when no $select is given, in the order Graph writes them (id last).
USER_DEFAULT_SELECT: tuple[str, ...] = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)

GROUP_PROPERTIES: dict[str, Any] = {
    "id": None,
    "deletedDateTime": None,
    "classification": None,
    "createdDateTime": None,
    "creationOptions": (),
    "description": None,
    "displayName": None,
    "expirationDateTime": None,
    "groupTypes": (),
    "isAssignableToRole": None,
    "mail": None,
    "mailEnabled": None,
    "mailNickname": None,
    "membershipRule": None,
    "membershipRuleProcessingState": None,
    "onPremisesSyncEnabled": None,
    "preferredDataLocation": None,
    "preferredLanguage": None,
    "proxyAddresses": (),
    "renewedDateTime": None,
    "resourceBehaviorOptions": (),
    "resourceProvisioningOptions": (),
    "securityEnabled": None,
    "securityIdentifier": None,
    "theme": None,
    "visibility": None,
}
GROUP_DEFAULT_SELECT: tuple[str, ...] = tuple(GROUP_PROPERTIES)


def project(
    obj: dict[str, Any], select: tuple[str, ...], catalogue: dict[str, Any]
) -> dict[str, Any]:
    """The selected properties of one object; unset ones read as null or [] per the catalogue."""
    out: dict[str, Any] = {}
    for name in select:
        if name in obj:
            out[name] = obj[name]
        elif name in catalogue:
            default = catalogue[name]
            out[name] = [] if isinstance(default, tuple) else default
    return out
