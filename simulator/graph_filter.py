"""The `$filter` and `$search` subset the simulated directory understands, compiled to predicates."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from simulator.graph_http import GraphError, bad_request

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|([A-Za-z_$][\w./]*)|(-?\d+(?:\.\d+)?)|(\(|\)|,))")
ADVANCED_HINT = (
    "because the required parameters might be missing. Try adding $count=true query parameter and "
    "ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more "
    "information"
)
# Per-entity filterable properties; True marks those that need an advanced query even for `eq`.
USER_FILTERABLE: dict[str, bool] = {
    "id": False, "accountEnabled": False, "userType": False, "department": False,
    "displayName": False, "givenName": False, "surname": False, "jobTitle": False, "mail": False,
    "userPrincipalName": False, "onPremisesSyncEnabled": False, "createdDateTime": False,
    "employeeId": False, "companyName": False, "city": False, "country": False,
    "usageLocation": False, "preferredLanguage": False, "creationType": False,
    "mobilePhone": True, "officeLocation": True,
}  # fmt: skip
GROUP_FILTERABLE: dict[str, bool] = {
    "id": False, "displayName": False, "mail": False, "mailEnabled": False,
    "securityEnabled": False, "mailNickname": False, "createdDateTime": False,
    "description": True,
}  # fmt: skip


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


class _Parser:
    """Recursive descent over: or / and / not / ( ) / comparisons / in / startswith / endswith."""

    def __init__(self, text: str, entity: str, filterable: dict[str, bool], advanced: bool) -> None:
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.entity = entity
        self.filterable = filterable
        self.advanced = advanced

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, Any]]:
        tokens: list[tuple[str, Any]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise bad_request("Invalid filter clause")
            string, word, number, punct = match.groups()
            if string is not None:
                tokens.append(("lit", string[1:-1].replace("''", "'")))
            elif word is not None:
                lowered = word.lower()
                literal = {"true": True, "false": False, "null": None}
                tokens.append(("lit", literal[lowered]) if lowered in literal else ("word", word))
            elif number is not None:
                tokens.append(("lit", float(number) if "." in number else int(number)))
            else:
                tokens.append(("punct", punct))
            pos = match.end()
        return tokens

    def _peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _next(self) -> tuple[str, Any]:
        token = self._peek()
        if token is None:
            raise bad_request("Invalid filter clause")
        self.pos += 1
        return token

    def _expect(self, kind: str, value: Any = None) -> Any:
        token = self._next()
        if token[0] != kind or (value is not None and token[1] != value):
            raise bad_request("Invalid filter clause")
        return token[1]

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token[0] == "word" and token[1].lower() == word:
            self.pos += 1
            return True
        return False

    def _need_advanced(self, operator: str) -> None:
        if not self.advanced:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                f"Operator '{operator}' is not supported {ADVANCED_HINT}",
            )

    def _property(self, name: str) -> str:
        for known, advanced_only in self.filterable.items():
            if known.lower() == name.lower():
                if advanced_only:
                    self._need_advanced("eq")
                return known
        raise GraphError(
            400,
            "Request_UnsupportedQuery",
            f"Unsupported or invalid query filter clause specified for property '{name}' of resource '{self.entity}'.",
        )

    def parse(self) -> Predicate:
        predicate = self._or()
        if self._peek() is not None:
            raise bad_request("Invalid filter clause")
        return predicate

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._keyword("or"):
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda obj: any(p(obj) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._unary()]
        while self._keyword("and"):
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else (lambda obj: all(p(obj) for p in parts))

    def _unary(self) -> Predicate:
        if self._keyword("not"):
            self._need_advanced("not")
            inner = self._unary()
            return lambda obj: not inner(obj)
        token = self._peek()
        if token == ("punct", "("):
            self.pos += 1
            inner = self._or()
            self._expect("punct", ")")
            return inner
        return self._comparison()

    def _comparison(self) -> Predicate:
        word = self._expect("word")
        function = word.lower()
        if function in ("startswith", "endswith"):
            if function == "endswith":
                self._need_advanced("endsWith")
            self._expect("punct", "(")
            prop = self._property(self._expect("word"))
            self._expect("punct", ",")
            needle = self._expect("lit")
            self._expect("punct", ")")
            if not isinstance(needle, str):
                raise bad_request("Invalid filter clause")
            folded = needle.casefold()
            if function == "startswith":
                return lambda obj: (
                    isinstance(v := obj.get(prop), str) and v.casefold().startswith(folded)
                )
            return lambda obj: isinstance(v := obj.get(prop), str) and v.casefold().endswith(folded)
        prop = self._property(word)
        operator = self._expect("word").lower()
        if operator == "in":
            self._expect("punct", "(")
            values = {_fold(self._expect("lit"))}
            while self._peek() == ("punct", ","):
                self.pos += 1
                values.add(_fold(self._expect("lit")))
            self._expect("punct", ")")
            return lambda obj: _fold(obj.get(prop)) in values
        value = _fold(self._expect("lit"))
        if operator == "eq":
            return lambda obj: _fold(obj.get(prop)) == value
        if operator == "ne":
            self._need_advanced("ne")
            return lambda obj: _fold(obj.get(prop)) != value
        compare: dict[str, Callable[[Any, Any], bool]] = {
            "ge": lambda a, b: a >= b,
            "le": lambda a, b: a <= b,
            "gt": lambda a, b: a > b,
            "lt": lambda a, b: a < b,
        }
        if operator not in compare:
            raise bad_request("Invalid filter clause")
        check = compare[operator]
        return lambda obj: (
            (v := _fold(obj.get(prop))) is not None and value is not None and check(v, value)
        )


def compile_filter(
    text: str, entity: str, filterable: dict[str, bool], advanced: bool
) -> Predicate:
    """`advanced` = ConsistencyLevel: eventual and $count=true, which ne/not/endsWith need."""
    return _Parser(text, entity, filterable, advanced).parse()


_SEARCH_CLAUSE = re.compile(r'"([A-Za-z]+):([^"]*)"')
_WORD_SPLIT = re.compile(r"[^\w]+")


def compile_search(text: str, searchable: frozenset[str]) -> Predicate:
    """`"displayName:foo" OR "mail:bar"`: each term matches a word prefix, case-insensitively."""
    clauses: list[tuple[str, Predicate]] = []
    rest = text.strip()
    connector = "AND"
    while rest:
        match = _SEARCH_CLAUSE.match(rest)
        if match is None:
            raise bad_request(
                f"Syntax error: character '{rest[:1]}' is not valid in '{text}'.",
                "Request_UnsupportedQuery",
            )
        prop = next((p for p in searchable if p.lower() == match.group(1).lower()), None)
        if prop is None:
            raise bad_request(
                f"Invalid search property '{match.group(1)}'.", "Request_UnsupportedQuery"
            )
        term = match.group(2).casefold()
        clauses.append((connector, _search_term(prop, term)))
        rest = rest[match.end() :].strip()
        if rest:
            connector, _, rest = rest.partition(" ")
            connector = connector.upper()
            if connector not in ("AND", "OR"):
                raise bad_request(f"Syntax error in '{text}'.", "Request_UnsupportedQuery")
            rest = rest.strip()

    def predicate(obj: dict[str, Any]) -> bool:
        result = True
        for index, (join, clause) in enumerate(clauses):
            hit = clause(obj)
            result = hit if index == 0 else (result or hit) if join == "OR" else (result and hit)
        return result

    return predicate


def _search_term(prop: str, term: str) -> Predicate:
    # Graph tokenises both sides: every word of the term must prefix some word of the value.
    needles = [t for t in _WORD_SPLIT.split(term) if t]

    def matches(obj: dict[str, Any]) -> bool:
        value = obj.get(prop)
        if not isinstance(value, str):
            return False
        words = [w for w in _WORD_SPLIT.split(value.casefold()) if w]
        return all(any(w.startswith(n) for w in words) for n in needles)

    return matches
