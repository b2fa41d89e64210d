"""Tables, times and the progress display of `entrasync client`."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO


def can_encode(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def arrow(stream: TextIO | None = None) -> str:
    return " → " if can_encode(stream or sys.stdout, "→") else " -> "


def when(value: object) -> str:
    """An API DateTime as `YYYY-MM-DD HH:MMZ` (UTC), or `-`."""
    if not isinstance(value, str) or not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], out: TextIO) -> None:
    """Columns padded to their widest cell; a cell with newlines spans several lines."""
    cells = [[str(c) if c is not None else "-" for c in row] for row in rows]
    lines_of = [[c.split("\n") for c in row] for row in cells]
    widths = [len(h) for h in headers]
    for row in lines_of:
        for i, parts in enumerate(row):
            widths[i] = max(widths[i], *(len(p) for p in parts))

    def emit(parts: Sequence[str]) -> None:
        padded = [p.ljust(widths[i]) for i, p in enumerate(parts[:-1])] + [parts[-1]]
        out.write("  ".join(padded).rstrip() + "\n")

    emit(list(headers))
    for row in lines_of:
        height = max(len(parts) for parts in row)
        for n in range(height):
            emit([parts[n] if n < len(parts) else "" for parts in row])


def dump_json(value: object, out: TextIO, *, lines: bool = False) -> None:
    if lines:
        out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        out.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")
    out.flush()


def counts(p: dict[str, Any]) -> str:
    return (
        f"fetched {p.get('fetched', 0)}, created {p.get('created', 0)}, "
        f"updated {p.get('updated', 0)}, unchanged {p.get('unchanged', 0)}, "
        f"skipped by filter {p.get('skippedByFilter', 0)}, "
        f"skipped unmapped {p.get('skippedUnmapped', 0)}, errors {p.get('errors', 0)}"
    )


class Progress:
    """Shows syncProgress events: a bar redrawn in place on a terminal, else one line each."""

    def __init__(self, out: TextIO, *, tty: bool, json_lines: bool) -> None:
        self.out = out
        self.tty = tty and not json_lines
        self.json_lines = json_lines
        self._drawn = False
        self._fancy = can_encode(out, "█░")

    def event(self, p: dict[str, Any]) -> None:
        if self.json_lines:
            dump_json({"type": "progress", **p}, self.out, lines=True)
        elif self.tty:
            self._draw(p)
        else:
            percent = p.get("percent")
            shown = f"{percent:5.1f}%" if isinstance(percent, int | float) else "    ?%"
            self.out.write(f"{p.get('status')} {p.get('phase') or '-'} {shown} {counts(p)}\n")
            self.out.flush()

    def _draw(self, p: dict[str, Any]) -> None:
        """`[████░░░░]  45.0% RUNNING users 90/200 created 10 ...`, cut to the terminal's width."""
        width = shutil.get_terminal_size((80, 20)).columns
        bar_width = max(10, min(30, width - 70))
        full, empty = ("█", "░") if self._fancy else ("#", "-")
        percent = p.get("percent")
        if isinstance(percent, int | float):
            filled = round(bar_width * max(0.0, min(100.0, float(percent))) / 100)
            bar = f"[{full * filled}{empty * (bar_width - filled)}] {percent:5.1f}%"
        else:
            bar = f"[{empty * bar_width}]     ?%"
        total = p.get("total")
        fetched = f"{p.get('fetched', 0)}/{total}" if total else f"{p.get('fetched', 0)}"
        status = f"{p.get('status')} {p.get('phase') or ''}".strip()
        skipped = (p.get("skippedByFilter") or 0) + (p.get("skippedUnmapped") or 0)
        line = (
            f"{bar} {status} {fetched} created {p.get('created', 0)}"
            f" updated {p.get('updated', 0)} skipped {skipped} errors {p.get('errors', 0)}"
        )
        self.out.write("\r" + line[: width - 1] + "\x1b[K")
        self.out.flush()
        self._drawn = True

    def done(self) -> None:
        """End the bar's line, so that what follows starts on a new one."""
        if self._drawn:
            self.out.write("\n")
            self.out.flush()
            self._drawn = False
