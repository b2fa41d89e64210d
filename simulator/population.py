"""Deterministic people and groups for generated tenants, including the awkward data real tenants hold."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from simulator.wire import new_guid

# (display form, mail-safe form): names with é, ü, ø and CJK, since real tenants have them.
_GIVEN = [
    ("Alice", "alice"), ("Bob", "bob"), ("Chloé", "chloe"), ("David", "david"), ("Émile", "emile"),
    ("Fatima", "fatima"), ("Günther", "gunther"), ("Hannah", "hannah"), ("Ingrid", "ingrid"),
    ("João", "joao"), ("Kenji", "kenji"), ("Léa", "lea"), ("Mikkel", "mikkel"), ("Nadia", "nadia"),
    ("Oskar", "oskar"), ("Priya", "priya"), ("Quentin", "quentin"), ("Rosa", "rosa"),
    ("Søren", "soren"), ("Tomás", "tomas"), ("Uma", "uma"), ("Václav", "vaclav"), ("Wei", "wei"),
    ("Xiu", "xiu"), ("Yusuf", "yusuf"), ("Zoë", "zoe"), ("明", "ming"), ("Björk", "bjork"),
    ("Ana", "ana"), ("Chen", "chen"), ("Dmitri", "dmitri"), ("Elif", "elif"), ("Francesca", "francesca"),
    ("Grace", "grace"), ("Hugo", "hugo"), ("Isabel", "isabel"), ("Jürgen", "jurgen"), ("Kofi", "kofi"),
]  # fmt: skip
_SURNAMES = [
    ("Smith", "smith"), ("Müller", "muller"), ("García", "garcia"), ("Østergaard", "ostergaard"),
    ("Dubois", "dubois"), ("Rossi", "rossi"), ("Nakamura", "nakamura"), ("王", "wang"),
    ("Kowalski", "kowalski"), ("Johansson", "johansson"), ("O'Brien", "obrien"), ("Nguyen", "nguyen"),
    ("Silva", "silva"), ("Andersen", "andersen"), ("Schröder", "schroder"), ("Fernández", "fernandez"),
    ("Okafor", "okafor"), ("Lefèvre", "lefevre"), ("Novák", "novak"), ("李", "li"), ("Brown", "brown"),
    ("Williams", "williams"), ("Khan", "khan"), ("Jensen", "jensen"), ("Moreau", "moreau"),
    ("Y\u0131lmaz", "yilmaz"), ("Popescu", "popescu"), ("Tanaka", "tanaka"), ("Bianchi", "bianchi"),
    ("Virtanen", "virtanen"),
]  # fmt: skip
OFFICES = ["Seattle", "London", "Paris", "München", "Oslo", "Tokyo", "São Paulo", "Sydney"]
DEPARTMENTS = [
    "Sales", "Marketing", "Engineering", "Support", "Finance", "Human Resources", "Legal",
    "Operations", "IT", "Research & Development",
]  # fmt: skip
_TITLES = [
    "Account Executive", "Marketing Manager", "Software Engineer", "Support Specialist",
    "Accountant", "HR Partner", "Counsel", "Operations Lead", "Systems Administrator",
    "Research Scientist", "Director", "Intern",
]  # fmt: skip
_LANGUAGES = ["en-US", "en-GB", "fr-FR", "de-DE", "nb-NO", "ja-JP", "pt-BR", None]
_GUEST_DOMAINS = ["fabrikam.com", "northwind.example", "gmail.com", "outlook.com", "adatum.org"]
_SHARED = ["Support", "Sales", "Reception", "Accounts Payable", "Info", "Helpdesk", "Facilities"]
_DAYS = [(date(2015, 1, 1) + timedelta(days=n)).strftime("%Y-%m-%dT") for n in range(10 * 365)]
_MINUTES = [f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440)]
_SECONDS = [f"{sec:02d}Z" for sec in range(60)]


@dataclass
class Population:
    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    members: dict[str, list[str]] = field(default_factory=dict)
    # Users that are shared mailboxes (mailboxSettings.userPurpose `shared`).
    shared_mailbox_ids: list[str] = field(default_factory=list)
    # The manager relationship (user id -> manager id), see `_managers`.
    managers: dict[str, str] = field(default_factory=dict)


def _created(rng: random.Random) -> str:
    # Table lookups: formatting a datetime per user would cost a third of the generation time.
    r = rng.random
    return (
        _DAYS[int(r() * len(_DAYS))]
        + _MINUTES[int(r() * len(_MINUTES))]
        + _SECONDS[int(r() * len(_SECONDS))]
    )


def _person(rng: random.Random, index: int, domain: str, taken: set[str]) -> dict[str, Any]:
    # rng.random() indexing instead of rng.choice(): generation of 100k users must stay ~1 s.
    r = rng.random
    given, given_slug = _GIVEN[int(r() * len(_GIVEN))]
    surname, surname_slug = _SURNAMES[int(r() * len(_SURNAMES))]
    local = f"{given_slug}.{surname_slug}"
    if local in taken:
        local = f"{local}{index}"
    taken.add(local)
    user_id = new_guid(rng)
    display = f"{given} {surname}" + (" 🚀" if r() < 0.002 else "")
    mail: str | None
    if r() < 0.10:
        home = _GUEST_DOMAINS[int(r() * len(_GUEST_DOMAINS))]
        upn = f"{local}_{home}#EXT#@{domain}"
        mail = f"{local}@{home}"
        user_type = "Guest"
    else:
        upn = f"{local}@{domain}"
        mail = None if r() < 0.03 else upn
        user_type = "Member"
    user: dict[str, Any] = {
        "id": user_id,
        "userPrincipalName": upn,
        "mail": mail,
        "givenName": given,
        "surname": surname,
        "displayName": display,
        "jobTitle": _TITLES[int(r() * len(_TITLES))] if r() < 0.85 else None,
        "businessPhones": [f"+1 425 555 {int(r() * 10000):04d}"] if r() < 0.7 else [],
        "mobilePhone": f"+1 206 555 {int(r() * 10000):04d}" if r() < 0.6 else None,
        "officeLocation": OFFICES[int(r() * len(OFFICES))] if r() < 0.92 else None,
        "department": DEPARTMENTS[int(r() * len(DEPARTMENTS))] if r() < 0.92 else None,
        "preferredLanguage": _LANGUAGES[int(r() * len(_LANGUAGES))],
        "userType": user_type,
        "accountEnabled": r() >= 0.05,
        "proxyAddresses": [f"SMTP:{mail}"] if mail else [],
        "onPremisesSyncEnabled": True if user_type == "Member" and r() < 0.3 else None,
        "createdDateTime": _created(rng),
    }
    if user_type == "Guest":
        user["creationType"] = "Invitation"
        user["externalUserState"] = "Accepted" if r() < 0.9 else "PendingAcceptance"
    return user


def _admin(rng: random.Random, domain: str, org_name: str) -> dict[str, Any]:
    return {
        "id": new_guid(rng),
        "userPrincipalName": f"admin@{domain}",
        "mail": f"admin@{domain}",
        "givenName": org_name,
        "surname": "Administrator",
        "displayName": f"{org_name} Administrator",
        "jobTitle": "Global Administrator",
        "businessPhones": [],
        "mobilePhone": None,
        "officeLocation": OFFICES[0],
        "department": "IT",
        "preferredLanguage": "en-US",
        "userType": "Member",
        "accountEnabled": True,
        "proxyAddresses": [f"SMTP:admin@{domain}"],
        "onPremisesSyncEnabled": None,
        "createdDateTime": "2015-01-01T00:00:00Z",
    }


def _shared_mailbox(rng: random.Random, index: int, domain: str) -> dict[str, Any]:
    label = _SHARED[index % len(_SHARED)]
    local = label.lower().replace(" ", "") + (
        str(index // len(_SHARED)) if index >= len(_SHARED) else ""
    )
    mail = f"{local}@{domain}"
    return {
        "id": new_guid(rng),
        "userPrincipalName": mail,
        "mail": mail,
        "givenName": None,
        "surname": None,
        "displayName": f"{label} mailbox",
        "jobTitle": None,
        "businessPhones": [],
        "mobilePhone": None,
        "officeLocation": None,
        "department": None,
        "preferredLanguage": None,
        "userType": "Member",
        # Old tenants keep shared mailboxes with sign-in allowed (reference section 1).
        "accountEnabled": rng.random() < 0.3,
        "proxyAddresses": [f"SMTP:{mail}"],
        "onPremisesSyncEnabled": None,
        "createdDateTime": _created(rng),
    }


def _awkward(users: list[dict[str, Any]]) -> None:
    """Plant the fixed oddities S11 is about, at fixed positions so tests can find them."""
    members = [u for u in users[1:] if u["userType"] == "Member" and u["givenName"] and u["mail"]]
    if len(members) < 6:
        return
    a, b, c, d, e, f = members[:6]
    # Mail differing only by case from another user's (UPNs stay unique, as Entra enforces).
    b["mail"] = a["mail"].upper()
    b["proxyAddresses"] = [f"SMTP:{b['mail']}"]
    # UPN differing only by case: impossible in real Entra, present so S11's guard is exercised.
    d["userPrincipalName"] = c["userPrincipalName"].title()
    e["jobTitle"] = ("Principal Senior Staff Distinguished Engineer " * 7)[:300]
    f["department"] = ("Research & Development, Advanced Projects Division " * 6).strip()
    f["givenName"] = None


# The SKU generated people hold (Microsoft 365 E3's skuId).
LICENSE_SKU = "05e9a617-0261-4cee-bb44-138d3ef5d965"


def _license(users: list[dict[str, Any]]) -> None:
    """assignedLicenses: members with a first name hold one, but about one in ten (by id, so no
    random draw shifts the rest of the population); guests and shared mailboxes hold none."""
    for user in users:
        named_member = user["userType"] == "Member" and user["givenName"]
        licensed = named_member and int(user["id"][-2:], 16) % 10 != 0
        user["assignedLicenses"] = [{"disabledPlans": [], "skuId": LICENSE_SKU}] if licensed else []


# Reports per manager in generated tenants.
FAN_OUT = 8


def _managers(users: list[dict[str, Any]]) -> dict[str, str]:
    """A management tree without random draws (so nothing else in the tenant shifts): members
    with a first name in order, the first reporting to the administrator, each next one to the
    member FAN_OUT places up the list's tree; guests and shared mailboxes have no manager."""
    if not users:
        return {}
    staff = [u["id"] for u in users[1:] if u["userType"] == "Member" and u["givenName"]]
    managers = {staff[0]: users[0]["id"]} if staff else {}
    for index in range(1, len(staff)):
        managers[staff[index]] = staff[(index - 1) // FAN_OUT]
    return managers


def build_population(
    rng: random.Random,
    *,
    domain: str,
    org_name: str,
    users: int,
    profile: Literal["small", "large"],
) -> Population:
    """Users (admin first, then people, guests, shared mailboxes) and nested groups."""
    population = Population()
    if users <= 0:
        return population
    people = population.users
    people.append(_admin(rng, domain, org_name))
    shared = max(2, users // 100) if users >= 20 else 0
    taken: set[str] = {"admin"}
    for index in range(1, users - shared):
        people.append(_person(rng, index, domain, taken))
    for index in range(shared):
        people.append(_shared_mailbox(rng, index, domain))
        population.shared_mailbox_ids.append(people[-1]["id"])
    _awkward(people)
    _license(people)
    population.managers = _managers(people)
    _groups(rng, population, domain, profile)
    return population


def _group(rng: random.Random, name: str, *, unified: bool = False, domain: str) -> dict[str, Any]:
    nickname = "".join(ch for ch in name if ch.isalnum()) or "group"
    return {
        "id": new_guid(rng),
        "displayName": name,
        "description": f"{name} group",
        "mail": f"{nickname.lower()}@{domain}" if unified else None,
        "mailEnabled": unified,
        "mailNickname": nickname,
        "securityEnabled": not unified,
        "groupTypes": ["Unified"] if unified else [],
        "visibility": "Private" if unified else None,
        "createdDateTime": _created(rng),
    }


def _groups(
    rng: random.Random, population: Population, domain: str, profile: Literal["small", "large"]
) -> None:
    members = population.members

    def add(name: str, ids: list[str], *, unified: bool = False) -> str:
        group = _group(rng, name, unified=unified, domain=domain)
        population.groups.append(group)
        members[group["id"]] = ids
        return str(group["id"])

    staff = [u for u in population.users if u["userType"] == "Member" and u["givenName"]]
    by_office = {
        office: add(f"Office - {office}", [u["id"] for u in staff if u["officeLocation"] == office])
        for office in OFFICES
    }
    by_department = {
        dept: add(dept, [u["id"] for u in staff if u["department"] == dept], unified=True)
        for dept in DEPARTMENTS
    }
    # Nesting three deep: All Company > All Staff > Office - X > users.
    all_staff = add("All Staff", list(by_office.values()))
    add("All Company", [all_staff, population.users[0]["id"]], unified=True)
    engineering = by_department["Engineering"]
    backend = add("Engineering - Backend", [])
    oncall = add("Backend - On-call", [])
    members[engineering] = [*members[engineering], backend]
    members[backend].append(oncall)
    engineers = [u["id"] for u in staff if u["department"] == "Engineering"]
    members[backend].extend(engineers[: len(engineers) // 2])
    # On-call overlaps Backend on purpose: transitive listings must deduplicate.
    members[oncall].extend(engineers[: max(1, len(engineers) // 8)])
    guests = [u["id"] for u in population.users if u["userType"] == "Guest"]
    add("External Partners", guests[: len(guests) // 2])
    add("Managers", [u["id"] for u in staff if u["jobTitle"] == "Director"])
    add("Empty Group", [])
    count = 1100 if profile == "large" else 8
    everyone = [u["id"] for u in staff]
    for number in range(count):
        size = min(len(everyone), rng.randrange(3, 40))
        add(f"Project {number + 1:04d}", rng.sample(everyone, size))
