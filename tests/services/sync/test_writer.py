"""One batch's SQL helpers (services/sync/writer.py) on plain data."""

from __future__ import annotations

import json

import pytest

from services.sync.writer import changes_json


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"email": ("", "ann@contoso.example"), "first_name": ("", "Ann")},
        {"job_title": ('Chef "de" cuisine', "Café\\Bar"), "trims": ["phone:TOO_LONG:70"]},
        {"last_name": ("Ünal\u200b", "\u4e2d\u6587 \U0001f600"), "mobile": ("\t\n", "\x7f\ud800")},
    ],
)
def test_r8_change_log_json_is_the_text_the_json_encoder_writes(
    changes: dict[str, tuple[str, ...] | list[str]],
) -> None:
    expected = json.dumps(changes, ensure_ascii=False, separators=(",", ":"))
    assert changes_json(changes) == expected
    assert json.loads(changes_json(changes)) == {k: list(v) for k, v in changes.items()}


def test_r8_change_log_json_of_values_that_are_not_text_falls_back_to_the_encoder() -> None:
    changes = {"active": [True, False], "pin": [None, "KEEP_ACTIVE"]}
    assert changes_json(changes) == '{"active":[true,false],"pin":[null,"KEEP_ACTIVE"]}'  # type: ignore[arg-type]
