"""`make audit`'s dependency check: a vulnerability fails, an unreachable service is said
plainly (and only warns in CI), waivers need a reason and an expiry date."""

from __future__ import annotations

import importlib.util
import json
from datetime import date
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit_deps.py"
_spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
audit_deps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit_deps)

CLEAN = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}]}
VULNERABLE = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": [
    {"id": "PYSEC-0000-1", "fix_versions": ["3.1.4"]}]}]}
SKIPPED = {"dependencies": [{"name": "flask", "skip_reason": "Dependency not found"}]}


def test_a_known_vulnerability_fails_even_when_offline_is_allowed():
    code, lines = audit_deps.verdict(VULNERABLE, "", [], 0, allow_offline=True)
    assert code == 1 and "VULNERABLE: flask 3.1.3: PYSEC-0000-1 (fixed in: 3.1.4)" in lines


@pytest.mark.parametrize(("report", "stderr"), [
    (SKIPPED, ""), (None, "requests.exceptions.ConnectionError: Max retries exceeded")])
def test_an_unreachable_service_is_reported_and_only_warns_when_allowed(report, stderr):
    code, lines = audit_deps.verdict(report, stderr, [], 0, allow_offline=False)
    assert code == audit_deps.UNREACHABLE and "audit was NOT done" in lines[-1]
    assert audit_deps.verdict(report, stderr, [], 0, allow_offline=True)[0] == 0


def test_a_clean_report_passes():
    assert audit_deps.verdict(CLEAN, "", [], 0, allow_offline=False) == (
        0, ["pip-audit: 1 locked packages audited, no known vulnerability."])


def test_waivers_need_reason_and_expiry_and_expire(tmp_path):
    path = tmp_path / "waivers.json"
    path.write_text(json.dumps([
        {"id": "A", "package": "x", "reason": "Not reachable: we never parse X.",
         "date": "2026-01-10", "expires": "2026-06-30"},
        {"id": "B", "package": "x", "reason": "", "date": "2026-01-10",
         "expires": "2026-06-30"},
        {"id": "C", "package": "x", "reason": "Old.", "date": "2025-01-10",
         "expires": "2025-06-30"}]))
    ids, problems = audit_deps.load_waivers(path, date(2026, 3, 1))
    assert ids == ["A"]
    assert [p.split(":")[0] for p in problems] == ["waivers.json[1] B", "waivers.json[2] C"]
    assert audit_deps.verdict(CLEAN, "", problems, 1, allow_offline=True)[0] == 1
