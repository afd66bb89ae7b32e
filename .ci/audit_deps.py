"""Audit the locked dependencies for known vulnerabilities (pip-audit), with dated waivers.

Exit status: 0 no known vulnerability (or every one waived); 1 a vulnerability without a
valid waiver, or a malformed or expired waiver; 3 the vulnerability service could not be
reached or could not audit the packages (nothing was checked). With --allow-offline, 3 is
reported as a warning and the exit status is 0 (CI runs this way; a found vulnerability still
fails).

Waivers live in .ci/pip-audit-waivers.json: a list of {"id", "package", "reason", "date",
"expires"} objects (dates ISO 8601). A waiver without a reason or past its expiry date fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess  # runs pip-audit from this interpreter, no shell  # nosec B404
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WAIVERS = ROOT / ".ci" / "pip-audit-waivers.json"
UNREACHABLE = 3


def load_waivers(path: Path, today: date) -> tuple[list[str], list[str]]:
    """(vulnerability ids to ignore, problems with the waiver file)."""
    if not path.exists():
        return [], []
    problems, ids = [], []
    for i, waiver in enumerate(json.loads(path.read_text())):
        where = f"{path.name}[{i}] {waiver.get('id', '?')}"
        missing = [k for k in ("id", "package", "reason", "date", "expires")
                   if not str(waiver.get(k, "")).strip()]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}")
            continue
        try:
            expires = date.fromisoformat(waiver["expires"])
            date.fromisoformat(waiver["date"])
        except ValueError:
            problems.append(f"{where}: date and expires must be YYYY-MM-DD")
            continue
        if expires < today:
            problems.append(f"{where}: waiver expired on {expires}; review it")
            continue
        ids.append(waiver["id"])
    return ids, problems


def run_pip_audit(requirements: Path, ignore: list[str], timeout: int) -> tuple[dict | None, str]:
    """pip-audit's JSON report (None when it produced none) and its error output."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        args = [sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps",
                "--disable-pip", "--progress-spinner", "off", "--timeout", str(timeout),
                "-f", "json", "-o", str(out)]
        for vuln in ignore:
            args += ["--ignore-vuln", vuln]
        result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
        report = json.loads(out.read_text()) if out.exists() and out.stat().st_size else None
    return report, result.stderr


def verdict(report: dict | None, stderr: str, waiver_problems: list[str], waived: int,
            allow_offline: bool) -> tuple[int, list[str]]:
    """The exit status and the lines to print for one pip-audit report."""
    lines = [f"pip-audit waiver: {problem}" for problem in waiver_problems]
    deps = (report or {}).get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    found = [(d["name"], d["version"], v["id"], ", ".join(v.get("fix_versions", [])) or "none")
             for d in audited for v in d.get("vulns", [])]
    lines += [f"VULNERABLE: {name} {version}: {vuln} (fixed in: {fixes})"
              for name, version, vuln, fixes in found]
    if found or waiver_problems:
        lines.append(f"pip-audit: {len(found)} known vulnerabilit"
                     f"{'y' if len(found) == 1 else 'ies'} without a valid waiver, "
                     f"{len(waiver_problems)} waiver problem(s).")
        return 1, lines
    if not audited:
        reason = deps[0]["skip_reason"] if deps else (
            stderr.strip().splitlines() or ["no report"])[-1][:300]
        lines.append("WARNING: the dependency audit was NOT done: the vulnerability service "
                     f"could not be reached or could not look the packages up ({reason}).")
        return (0 if allow_offline else UNREACHABLE), lines
    skipped = [d["name"] for d in deps if "skip_reason" in d]
    if skipped:
        lines.append(f"WARNING: not audited (unknown to the service): {', '.join(skipped)}")
    lines.append(f"pip-audit: {len(audited)} locked packages audited, no known vulnerability"
                 f"{f' ({waived} waived)' if waived else ''}.")
    return 0, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-r", "--requirements", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--allow-offline", action="store_true",
                        help="warn (exit 0) instead of failing when nothing could be checked")
    parser.add_argument("--timeout", type=int, default=15)
    args = parser.parse_args(argv)

    ignore, problems = load_waivers(WAIVERS, date.today())
    report, stderr = run_pip_audit(args.requirements, ignore, args.timeout)
    code, lines = verdict(report, stderr, problems, len(ignore), args.allow_offline)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
