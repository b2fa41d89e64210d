"""The import wizard over GraphQL: directory look-ups (W2, W4, W5) and configureImport (W1-W7)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from models import Classification as _Classification
from models import GroupFilter as _GroupFilter
from models import ImportMapping as MappingModel
from models import MatchAttribute as _MatchAttribute
from models import TenantConnection as ConnectionModel
from schema.connections import TenantConnection, _connection_pk, _runtime
from schema.errors import (
    ConnectionNotReadyError,
    ConsentRequiredError,
    MicrosoftUnavailableError,
    NotConfiguredError,
    NotFoundError,
    PermissionDeniedError,
    ReauthRequiredError,
    SiteAlreadyConnectedError,
    SiteNameTakenError,
    TooManyGroupsError,
    UnknownGroupsError,
    ValidationError,
    to_error,
)
from schema.ids import decode_id
from schema.types import Info, Site
from services import wizard
from services.errors import DomainError, InvalidInput, NotFound
from services.sync.config import MAX_SELECTED_GROUPS

Classification = strawberry.enum(
    _Classification, description="W1: OFFICE is officeLocation, DEPARTMENT is department."
)
GroupFilter = strawberry.enum(
    _GroupFilter,
    description="W4: NONE, ALL_GROUPS (in at least one group) or SELECTED (up to 999, transitive).",
)
MatchAttribute = strawberry.enum(
    _MatchAttribute,
    description="S2: which Entra attribute is the email: userPrincipalName (UPN) or mail.",
)


@strawberry.enum(description="W5: Entra user types.")
class UserType(Enum):
    MEMBER = "MEMBER"
    GUEST = "GUEST"


@strawberry.type(
    description="One office or department value with its number of users (W2); blanks are `Undefined`."
)
class DirectoryValue:
    value: str
    user_count: int


@strawberry.type
class DirectoryValues:
    classification: Classification  # type: ignore[valid-type]
    values: list[DirectoryValue]


@strawberry.type(description="W5: how many member and guest users the tenant has.")
class UserTypeCounts:
    members: int
    guests: int


@strawberry.type
class DirectoryGroup:
    id: str
    display_name: str
    mail: str | None
    security_enabled: bool | None


@strawberry.type(
    description="A page of the tenant's groups; pass `nextCursor` as `after` for the next page."
)
class DirectoryGroups:
    groups: list[DirectoryGroup]
    next_cursor: str | None


_LOOKUP_ERRORS = (
    NotFoundError
    | ConnectionNotReadyError
    | ReauthRequiredError
    | ConsentRequiredError
    | MicrosoftUnavailableError
    | NotConfiguredError
)
DirectoryValuesResult = Annotated[
    DirectoryValues | _LOOKUP_ERRORS | ValidationError, strawberry.union("DirectoryValuesResult")
]
UserTypeCountsResult = Annotated[
    UserTypeCounts | _LOOKUP_ERRORS, strawberry.union("UserTypeCountsResult")
]
DirectoryGroupsResult = Annotated[
    DirectoryGroups | _LOOKUP_ERRORS | ValidationError, strawberry.union("DirectoryGroupsResult")
]


@strawberry.type(description="W3: a value routed to a site.")
class ImportMappingType:
    value: str
    site_pk: strawberry.Private[int]

    @strawberry.field
    async def site(self, info: Info) -> Site | None:
        row = await info.context.site_loader.load(self.site_pk)
        return Site.from_model(row) if row else None


@strawberry.type(description="The saved import configuration of a connection (W7).")
class ImportConfiguration:
    configured_at: datetime | None
    classification: Classification | None  # type: ignore[valid-type]
    group_filter: GroupFilter  # type: ignore[valid-type]
    selected_group_ids: list[str]
    user_types: list[UserType]
    match_attribute: MatchAttribute  # type: ignore[valid-type]
    connection_pk: strawberry.Private[int]
    account_pk: strawberry.Private[int]

    @strawberry.field(
        description="W3: value-to-site routes (ACCOUNT scope); unmapped values are not imported."
    )
    async def mappings(self) -> list[ImportMappingType]:
        rows = await MappingModel.filter(
            connection_id=self.connection_pk, account_id=self.account_pk
        ).order_by("value")
        return [ImportMappingType(value=r.value, site_pk=r.site_id) for r in rows]

    @classmethod
    def from_model(cls, m: ConnectionModel) -> ImportConfiguration:
        return cls(
            configured_at=m.configured_at,
            classification=m.classification,
            group_filter=m.group_filter,
            selected_group_ids=list(m.selected_group_ids),
            user_types=[UserType(t) for t in m.user_types],
            match_attribute=m.match_attribute,
            connection_pk=m.id,
            account_pk=m.account_id,
        )


@strawberry.input(
    description="W3: route one value to an existing site (`siteId`) or to a new site (`newSiteName`)."
)
class MappingInput:
    value: str = strawberry.field(
        description="An office or department as listed by directoryValues, or `Undefined`."
    )
    site_id: strawberry.ID | None = None
    new_site_name: str | None = None


@strawberry.input(description="The import configuration; replaces the saved one as a whole.")
class ConfigureImportInput:
    connection_id: strawberry.ID
    classification: Classification | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="W1, ACCOUNT scope only."
    )
    mappings: list[MappingInput] = strawberry.field(
        default_factory=list, description="W3, ACCOUNT scope only."
    )
    group_filter: GroupFilter = _GroupFilter.NONE  # type: ignore[valid-type]
    selected_group_ids: list[str] = strawberry.field(
        default_factory=list,
        description=f"W4: up to {MAX_SELECTED_GROUPS} group ids, with SELECTED.",
    )
    user_types: list[UserType] = strawberry.field(
        default_factory=lambda: [UserType.MEMBER], description="W5: at least one."
    )
    match_attribute: MatchAttribute = _MatchAttribute.UPN  # type: ignore[valid-type]


@strawberry.type
class ConfigureImportPayload:
    connection: TenantConnection

    @strawberry.field
    async def configuration(self) -> ImportConfiguration:
        row = await ConnectionModel.get(id=self.connection.id)
        return ImportConfiguration.from_model(row)


ConfigureImportResult = Annotated[
    ConfigureImportPayload
    | ValidationError
    | NotFoundError
    | PermissionDeniedError
    | SiteAlreadyConnectedError
    | SiteNameTakenError
    | TooManyGroupsError
    | UnknownGroupsError
    | ConnectionNotReadyError
    | ReauthRequiredError
    | ConsentRequiredError
    | MicrosoftUnavailableError
    | NotConfiguredError,
    strawberry.union("ConfigureImportResult"),
]


def _mapping(m: MappingInput) -> wizard.MappingInput:
    site_pk = None
    if m.site_id is not None:
        site_pk = decode_id(m.site_id, "Site")
        if site_pk is None:
            raise NotFound("site")
    return wizard.MappingInput(value=m.value, site_id=site_pk, new_site_name=m.new_site_name)


@strawberry.type
class WizardQuery:
    @strawberry.field(
        description="W2: distinct office or department values of the tenant with user counts."
    )
    async def directory_values(
        self,
        info: Info,
        connection_id: strawberry.ID,
        classification: Classification,  # type: ignore[valid-type]
    ) -> DirectoryValuesResult:
        try:
            summary = await wizard.directory_summary(
                _runtime(info), info.context.who, _connection_pk(connection_id)
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        rows = summary.offices if classification is _Classification.OFFICE else summary.departments
        return DirectoryValues(
            classification=classification,
            values=[DirectoryValue(value=r.value, user_count=r.count) for r in rows],
        )

    @strawberry.field(description="W5: member and guest user counts of the tenant.")
    async def directory_user_types(
        self, info: Info, connection_id: strawberry.ID
    ) -> UserTypeCountsResult:
        try:
            summary = await wizard.directory_summary(
                _runtime(info), info.context.who, _connection_pk(connection_id)
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return UserTypeCounts(members=summary.members, guests=summary.guests)

    @strawberry.field(description="W4: the tenant's groups, searchable by name; `first` is 1..100.")
    async def directory_groups(
        self,
        info: Info,
        connection_id: strawberry.ID,
        search: str | None = None,
        first: int = 50,
        after: str | None = None,
    ) -> DirectoryGroupsResult:
        try:
            if not 1 <= first <= 100:
                raise InvalidInput("first", "between 1 and 100")
            groups, cursor = await wizard.list_groups(
                _runtime(info),
                info.context.who,
                _connection_pk(connection_id),
                search=(search or "")[:100] or None,
                first=first,
                after=after,
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return DirectoryGroups(
            groups=[
                DirectoryGroup(
                    id=g.id,
                    display_name=g.display_name,
                    mail=g.mail,
                    security_enabled=g.security_enabled,
                )
                for g in groups
            ],
            next_cursor=cursor,
        )


@strawberry.type
class WizardMutation:
    @strawberry.mutation(
        description="W1-W7: save the import configuration of a connection. Needs ADMIN."
    )
    async def configure_import(
        self, info: Info, input: ConfigureImportInput
    ) -> ConfigureImportResult:
        try:
            info.context.who.require_admin()
            settings = wizard.ImportSettings(
                classification=input.classification,
                mappings=tuple(_mapping(m) for m in input.mappings),
                group_filter=input.group_filter,
                selected_group_ids=tuple(input.selected_group_ids),
                user_types=tuple(t.value for t in input.user_types),
                match_attribute=input.match_attribute,
            )
            conn = await wizard.configure_import(
                _runtime(info), info.context.who, _connection_pk(input.connection_id), settings
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return ConfigureImportPayload(connection=TenantConnection.from_model(conn))
