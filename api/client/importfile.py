"""An import configuration file (YAML or JSON) turned into a ConfigureImportInput.

The file holds the fields of ConfigureImportInput (camelCase, or snake_case), less connectionId,
which is given on the command line. Mappings route a value to a site given by name or id
(`site`), by id only (`siteId`), by name only (`siteName`), or to a new site (`newSiteName`):

    classification: OFFICE
    mappings:
      - {value: Paris, site: Paris HQ}        # an existing site, by name or id
      - {value: London, newSiteName: London}  # a site created by configureImport
    # or, shorter:  mappings: {Paris: Paris HQ, London: {newSiteName: London}}
    groupFilter: NONE
    userTypes: [MEMBER, GUEST]
    matchAttribute: UPN

Each problem is reported with the field it is about (`mappings[1].site: ...`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from api.client.errors import USAGE, ClientError
from api.client.transport import ApiClient

ENUMS = {
    "classification": ("OFFICE", "DEPARTMENT"),
    "groupFilter": ("NONE", "ALL_GROUPS", "SELECTED"),
    "matchAttribute": ("UPN", "MAIL"),
}
USER_TYPES = ("MEMBER", "GUEST")
FIELDS = (
    "classification",
    "mappings",
    "groupFilter",
    "selectedGroupIds",
    "userTypes",
    "matchAttribute",
)
TARGETS = ("site", "siteId", "siteName", "newSiteName")
MAX_FILE_BYTES = 5_000_000


class FileError(ClientError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(USAGE, f"{field}: {message}" if field else message, code="FILE")
        self.field = field


def _camel(key: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)


def read_file(path: str) -> dict[str, Any]:
    """The file's top-level mapping; YAML for .yaml/.yml, JSON for .json, else either."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise FileError("", f"{path}: larger than {MAX_FILE_BYTES} bytes")
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise FileError("", f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise FileError("", f"{path} is not UTF-8 text") from None
    suffix = p.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        else:  # YAML is a superset of JSON: it reads .yaml, .yml and anything else
            data = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise FileError("", f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise FileError("", f"{path}: invalid YAML{where}: {problem}") from None
    except (RecursionError, ValueError):  # nested too deep; YAML integers over 4300 digits
        raise FileError("", f"{path}: nested too deeply or holds a number too long") from None
    if not isinstance(data, dict):
        raise FileError("", f"{path}: expected a mapping of fields (classification, mappings, ...)")
    return data


@dataclass
class _Mapping:
    field: str  # e.g. mappings[2]
    value: str
    target: str  # one of TARGETS
    ref: str


def _str(field: str, value: object) -> str:
    if isinstance(value, bool):
        raise FileError(
            field, "expected a string (quote it: YAML reads yes/no/on/off as true/false)"
        )
    if not isinstance(value, str | int | float):
        raise FileError(field, "expected a string")
    text = str(value).strip()
    if not text:
        raise FileError(field, "must not be empty")
    return text


def _enum(field: str, value: object, choices: tuple[str, ...]) -> str:
    text = _str(field, value).upper()
    if text not in choices:
        raise FileError(field, f"{value!r} is not one of {', '.join(choices)}")
    return text


def _list(field: str, value: object) -> list[Any]:
    if isinstance(value, str):
        return [value]  # `userTypes: MEMBER` reads as [MEMBER]
    if not isinstance(value, list):
        raise FileError(field, "expected a list")
    return value


def _mappings(raw: object) -> list[_Mapping]:
    out: list[_Mapping] = []
    if isinstance(raw, dict):  # {value: site} or {value: {newSiteName: ...}}
        items: list[Any] = []
        for value, target in raw.items():
            items.append(
                dict(target, value=value)
                if isinstance(target, dict)
                else {"value": value, "site": target}
            )
    else:
        items = _list("mappings", raw)
    for i, item in enumerate(items):
        field = f"mappings[{i}]"
        if not isinstance(item, dict):
            raise FileError(field, "expected {value: ..., site|siteId|siteName|newSiteName: ...}")
        item = {_camel(str(k)): v for k, v in item.items()}
        unknown = sorted(set(item) - {"value", *TARGETS})
        if unknown:
            raise FileError(
                f"{field}.{unknown[0]}", f"unknown key (use value and one of {', '.join(TARGETS)})"
            )
        if "value" not in item:
            raise FileError(f"{field}.value", "missing: the office or department value")
        value = item["value"]
        value = "Undefined" if value is None else _str(f"{field}.value", value)
        given = [t for t in TARGETS if item.get(t) is not None]
        if len(given) != 1:
            raise FileError(
                field, f"map {value!r} to exactly one of {', '.join(TARGETS)} (got {len(given)})"
            )
        target = given[0]
        out.append(_Mapping(field, value, target, _str(f"{field}.{target}", item[target])))
    return out


def parse(data: dict[str, Any]) -> tuple[dict[str, Any], list[_Mapping]]:
    """Validate the shape; returns (input without mappings, mappings to resolve)."""
    data = {_camel(str(k)): v for k, v in data.items()}
    if "connectionId" in data:
        raise FileError("connectionId", "give the connection on the command line, not in the file")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise FileError(unknown[0], f"unknown field (the fields are {', '.join(FIELDS)})")
    out: dict[str, Any] = {}
    for name, choices in ENUMS.items():
        if data.get(name) is not None:
            out[name] = _enum(name, data[name], choices)
    if data.get("userTypes") is not None:
        types = _list("userTypes", data["userTypes"])
        out["userTypes"] = [_enum(f"userTypes[{i}]", t, USER_TYPES) for i, t in enumerate(types)]
    if data.get("selectedGroupIds") is not None:
        groups = _list("selectedGroupIds", data["selectedGroupIds"])
        out["selectedGroupIds"] = [_str(f"selectedGroupIds[{i}]", g) for i, g in enumerate(groups)]
    mappings = _mappings(data["mappings"]) if data.get("mappings") is not None else []
    return out, mappings


SITE_BY_ID = "... on Site { id name }"
SITES = """query($search: String, $first: Int, $after: String) {
  sites(search: $search, first: $first, after: $after) {
    nodes { id name } pageInfo { hasNextPage endCursor } } }"""


async def _site_by_name(api: ApiClient, name: str) -> str | None:
    wanted = " ".join(name.split())
    folded: list[str] = []
    async for site in api.paginate(SITES, "sites", {"search": wanted[:100]}):
        if site["name"] == wanted:
            return str(site["id"])
        if site["name"].casefold() == wanted.casefold():
            folded.append(str(site["id"]))
    return folded[0] if len(folded) == 1 else None


async def _site_by_id(api: ApiClient, site_id: str) -> str | None:
    try:
        found = await api.node(site_id, SITE_BY_ID)
    except ClientError as exc:
        if exc.exit_code == USAGE:
            return None
        raise
    return str(found["id"]) if found and found.get("__typename") == "Site" else None


async def build_input(api: ApiClient, connection_id: str, path: str) -> dict[str, Any]:
    """ConfigureImportInput for `connection_id` from the file, site names resolved to ids."""
    fields, mappings = parse(read_file(path))
    resolved: list[dict[str, str]] = []
    names: dict[str, str | None] = {}
    for m in mappings:
        where = f"{m.field}.{m.target}"
        if m.target == "newSiteName":
            resolved.append({"value": m.value, "newSiteName": m.ref})
            continue
        site_id: str | None = None
        if m.target in ("site", "siteId"):
            site_id = await _site_by_id(api, m.ref)
        if site_id is None and m.target in ("site", "siteName"):
            if m.ref not in names:
                names[m.ref] = await _site_by_name(api, m.ref)
            site_id = names[m.ref]
        if site_id is None:
            what = {"siteId": "no site with id", "siteName": "no site named"}.get(
                m.target, "no site with the name or id"
            )
            raise FileError(where, f"{what} {m.ref!r} (use newSiteName to create one)")
        resolved.append({"value": m.value, "siteId": site_id})
    return {"connectionId": connection_id, **fields, "mappings": resolved}
