"""CI: audit the installed dependencies for known vulnerabilities (pip-audit).

Fails on any known vulnerability. pip-audit reads advisories from PyPI's JSON API (or OSV); behind
a mirror that serves only the package index, the JSON API answers 404 for every package and
pip-audit then prints "No known vulnerabilities found" having checked nothing. So this counts what
was really audited, falls back to OSV, and when no advisory database answers it says
"skipped: advisory database unreachable" (without failing) instead of a false all-clear.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def audit(service: str) -> tuple[dict[str, Any] | None, str]:
    done = subprocess.run(  # noqa: S603 - a fixed command line
        [
            sys.executable,
            "-m",
            "pip_audit",
            "--format",
            "json",
            "--progress-spinner",
            "off",
            "--skip-editable",
            "--vulnerability-service",
            service,
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        lines = done.stderr.strip().splitlines()
        return None, lines[-1] if lines else f"exit status {done.returncode}"
    return report, ""


def main() -> int:
    for service in ("pypi", "osv"):
        report, error = audit(service)
        if report is None:
            print(f"pip-audit ({service}): no answer: {error[:200]}")
            continue
        deps = report["dependencies"]
        audited = [d for d in deps if "skip_reason" not in d]
        if not audited:
            print(
                f"pip-audit ({service}): none of {len(deps)} packages found in the advisory database"
            )
            continue
        vulnerable = [d for d in audited if d.get("vulns")]
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
                print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
        for dep in deps:
            if "skip_reason" in dep:
                print(f"not audited: {dep['name']}: {dep['skip_reason']}")
        print(
            f"pip-audit ({service}): {len(audited)} packages audited, "
            f"{len(vulnerable)} vulnerable, {len(deps) - len(audited)} not audited"
        )
        return 1 if vulnerable else 0
    print("skipped: advisory database unreachable")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
