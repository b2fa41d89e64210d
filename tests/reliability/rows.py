"""Every stored row, to show that a refused input changed nothing."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise


async def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the product (aerich's bookkeeping left out), in key order."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for model in Tortoise.apps["models"].values():
        meta = model._meta
        if meta.db_table == "aerich":
            continue
        tables[meta.db_table] = await model.all().order_by(meta.pk_attr).values()
    return tables
