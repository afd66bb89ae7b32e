"""`flask audit-verify` exits 0 on an intact chain and 1, naming the row, on a broken one."""

from __future__ import annotations

from sqlalchemy import text

from tests.audit_tamper import triggers_bypassed
from workflow import audit


def test_audit_verify_passes_on_an_intact_chain(runner, session, make_partnership):
    make_partnership("draft")
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert "Audit chain intact" in result.output


def test_audit_verify_fails_and_names_the_edited_row(runner, database, session):
    for i in range(3):
        audit.record_security(session, "probe", outcome="denied", details={"i": i})
    with triggers_bypassed(database) as conn:
        conn.execute(text("UPDATE audit_events SET outcome = 'success' WHERE seq = 2"))
        row_id = conn.execute(text("SELECT id FROM audit_events WHERE seq = 2")).scalar()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert f"row id {row_id}, seq 2" in result.output and "edited" in result.output
