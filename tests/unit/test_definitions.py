"""Workflow definitions: the shipped ones load, and every kind of mistake is named."""

from __future__ import annotations

import copy

import pytest
import yaml

from workflow.definitions import DEFINITIONS_DIR, DefinitionError, load_all, load_file
from workflow.effects import EFFECTS
from workflow.guards import GUARDS


def shipped(name: str) -> dict:
    return yaml.safe_load((DEFINITIONS_DIR / f"{name}.yaml").read_text())


def write(tmp_path, data, name="cluster_partnership"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_shipped_workflows_load_with_domain_stages():
    workflows = load_all()
    assert set(workflows) == {"cluster_partnership", "nda"}
    cp = workflows["cluster_partnership"]
    assert cp.state_names[:7] == (
        "draft", "due_diligence", "negotiation", "legal_review", "approved", "signing", "active"
    )
    assert {s.name for s in cp.states if s.terminal} == {"withdrawn", "terminated", "expired"}
    assert cp.transition("approve").roles == {"legal"}
    assert cp.transition("expire").roles == {"system"}
    assert set(cp.transition("withdraw").sources) == {
        "draft", "due_diligence", "negotiation", "legal_review", "approved", "signing"
    }
    nda = workflows["nda"]
    assert nda.state_names[:5] == ("draft", "legal_review", "approved", "signing", "active")


def mutate(data, fn):
    data = copy.deepcopy(data)
    fn(data)
    return data


def transition(data, trigger):
    return next(t for t in data["transitions"] if t["trigger"] == trigger)


CASES = [
    ("unknown state in dest", lambda d: transition(d, "approve").update(dest="aproved"),
     "transition 'approve': unknown state 'aproved'"),
    ("unknown source state", lambda d: transition(d, "approve").update(sources=["review"]),
     "transition 'approve': unknown state 'review'"),
    ("unknown guard", lambda d: transition(d, "approve").update(guards=["always_true"]),
     "transition 'approve': unknown guard 'always_true'"),
    ("unknown effect", lambda d: transition(d, "approve").update(effects=["send_fax"]),
     "transition 'approve': unknown effect 'send_fax'"),
    ("unknown role", lambda d: transition(d, "approve").update(roles=["judge"]),
     "transition 'approve': unknown role 'judge'"),
    ("duplicate trigger", lambda d: d["transitions"].append(dict(transition(d, "approve"))),
     "transition 'approve': duplicate trigger"),
    ("unreachable state", lambda d: d["states"].append({"name": "limbo", "label": "Limbo",
                                                        "terminal": True}),
     "state 'limbo': unreachable from 'draft'"),
    ("dead end", lambda d: d["transitions"].remove(transition(d, "terminate")) or
     d["transitions"].remove(transition(d, "expire")),
     "state 'active': has no way out"),
    ("terminal with exits", lambda d: d["states"][6].update(terminal=True),
     "state 'active': is terminal but has outgoing transitions"),
    ("unknown initial", lambda d: d.update(initial="start"), "initial: unknown state 'start'"),
    ("unknown key", lambda d: transition(d, "approve").update(gaurds=[]),
     "transition 'approve': unknown key(s) gaurds"),
    ("missing key", lambda d: transition(d, "approve").pop("roles"),
     "transition 'approve': missing key(s) roles"),
    ("duplicate state", lambda d: d["states"].append(dict(d["states"][0])),
     "state 'draft': duplicate state"),
    ("bad due_in_days", lambda d: d["states"][0].update(due_in_days=-3),
     "state 'draft': due_in_days must be a positive whole number"),
]


@pytest.mark.parametrize("what,change,message", CASES, ids=[c[0] for c in CASES])
def test_invalid_definition_names_file_and_item(tmp_path, what, change, message):
    path = write(tmp_path, mutate(shipped("cluster_partnership"), change))
    with pytest.raises(DefinitionError) as err:
        load_file(path, GUARDS, EFFECTS)
    assert str(err.value).startswith("cluster_partnership.yaml: ")
    assert message in str(err.value)


def test_key_must_match_file_name(tmp_path):
    path = write(tmp_path, shipped("nda"), name="other")
    with pytest.raises(DefinitionError, match="other.yaml: key: 'nda' must equal"):
        load_file(path, GUARDS, EFFECTS)


def test_invalid_yaml_is_reported_with_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("states: [unclosed\n")
    with pytest.raises(DefinitionError, match="broken.yaml: not valid YAML"):
        load_file(path, GUARDS, EFFECTS)


def test_a_new_workflow_needs_no_engine_code(tmp_path):
    data = {
        "key": "mou", "label": "Memorandum", "initial": "draft",
        "states": [{"name": "draft", "label": "Draft", "editable": True},
                   {"name": "signed", "label": "Signed", "terminal": True}],
        "transitions": [{"trigger": "sign", "sources": ["draft"], "dest": "signed",
                         "roles": ["coordinator"], "guards": ["signatories_complete"]}],
    }
    write(tmp_path, data, name="mou")
    workflows = load_all(tmp_path)
    assert workflows["mou"].transition("sign").dest == "signed"
    assert "draft --> signed: sign" in workflows["mou"].to_mermaid()


def test_mermaid_lists_every_transition_edge():
    cp = load_all()["cluster_partnership"]
    diagram = cp.to_mermaid()
    assert diagram.startswith("stateDiagram-v2")
    edges = sum(len(t.sources) for t in cp.transitions)
    assert diagram.count(" --> ") == edges + 1 + 3  # + initial arrow + 3 terminal arrows
