"""The operator CLI: stable names, ids printed, passwords never taken from arguments."""

from __future__ import annotations

from sqlalchemy import select

from workflow.models import Organisation, Partnership, User
from workflow.passwords import verify_password


def test_create_org_prints_the_new_id(runner, session):
    result = runner.invoke(args=["create-org", "bioPmed", "--country", "it", "--kind", "cluster",
                                 "--city", "Turin"])
    assert result.exit_code == 0, result.output
    org = session.get(Organisation, int(result.output.strip()))
    assert (org.name, org.country, org.city) == ("bioPmed", "IT", "Turin")


def test_create_org_rejects_a_bad_country_with_a_reason(runner):
    result = runner.invoke(args=["create-org", "X", "--country", "XX", "--kind", "sme"])
    assert result.exit_code != 0
    assert "ISO 3166-1 alpha-2" in result.output


def test_create_user_reads_the_password_from_stdin(runner, session):
    runner.invoke(args=["create-org", "Biocat", "--country", "ES", "--kind", "cluster"])
    result = runner.invoke(
        args=["create-user", "Marta@Example.org", "--name", "Marta", "--role", "legal",
              "--org", "Biocat"],
        input="a long enough passphrase\n")
    assert result.exit_code == 0, result.output
    user = session.get(User, int(result.output.strip()))
    assert user.email == "marta@example.org" and user.role == "legal"
    assert verify_password(user.password_hash, "a long enough passphrase")


def test_create_user_has_no_password_option(runner):
    result = runner.invoke(args=["create-user", "a@example.org", "--name", "A", "--role", "admin",
                                 "--password", "secret-in-shell-history"])
    assert result.exit_code != 0
    assert "No such option" in result.output


def test_create_user_refuses_a_short_password(runner):
    result = runner.invoke(args=["create-user", "a@example.org", "--name", "A", "--role",
                                 "admin"], input="short\n")
    assert result.exit_code != 0 and "at least 12 characters" in result.output


def test_seed_demo_loads_once_and_spreads_stages(runner, session, app):
    first = runner.invoke(args=["seed-demo", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "coordinator@biopmed.example" in first.output
    stages = set(session.scalars(select(Partnership._stage)))
    assert {"draft", "due_diligence", "negotiation", "legal_review", "approved", "signing",
            "active", "withdrawn"} <= stages
    countries = set(session.scalars(select(Organisation.country)))
    assert {"CN", "IN", "BR", "US", "JP", "IT", "FR", "NO", "LT", "ES"} <= countries
    assert set(session.scalars(select(User.role))) == {"coordinator", "legal", "partner", "admin"}
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "nothing loaded" in again.output


def test_check_workflows_prints_mermaid(runner):
    result = runner.invoke(args=["check-workflows"])
    assert result.exit_code == 0
    assert result.output.count("stateDiagram-v2") == 2
    assert "legal_review --> approved: approve" in result.output
