"""Workflow definitions as data: one YAML file per workflow, validated on load."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from ..roles import TRANSITION_ROLES

DEFINITIONS_DIR = Path(__file__).resolve().parent

_WORKFLOW_KEYS = {"key", "label", "description", "initial", "checklist", "states", "transitions"}
_REQUIRED_WORKFLOW_KEYS = {"key", "label", "initial", "states", "transitions"}
_STATE_KEYS = {
    "name", "label", "terminal", "editable", "reviewing", "due_in_days", "description"
}
_TRANSITION_KEYS = {
    "trigger",
    "label",
    "sources",
    "dest",
    "roles",
    "guards",
    "effects",
    "requires_comment",
    "notify",
}
_REQUIRED_TRANSITION_KEYS = {"trigger", "sources", "dest", "roles"}


class DefinitionError(ValueError):
    """A workflow definition is invalid; the message names the file and the item."""


@dataclass(frozen=True)
class StateDef:
    name: str
    label: str
    terminal: bool = False
    editable: bool = False
    reviewing: bool = False  # legal advisors review clauses in this stage
    due_in_days: int | None = None
    description: str = ""


@dataclass(frozen=True)
class NotifyDef:
    """Tell the `to` audiences about a transition with a notification of `kind`."""

    kind: str
    to: tuple[str, ...]


@dataclass(frozen=True)
class TransitionDef:
    trigger: str
    label: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    guards: tuple[str, ...] = ()
    effects: tuple[str, ...] = ()
    requires_comment: bool = False
    notify: tuple[NotifyDef, ...] = ()


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str


@dataclass(frozen=True)
class WorkflowDef:
    key: str
    label: str
    initial: str
    states: tuple[StateDef, ...]
    transitions: tuple[TransitionDef, ...]
    checklist: tuple[ChecklistItem, ...] = ()
    description: str = ""
    source: str = ""
    _by_trigger: dict = field(default_factory=dict, compare=False, repr=False)
    _by_state: dict = field(default_factory=dict, compare=False, repr=False)
    _from_state: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_trigger.update({t.trigger: t for t in self.transitions})
        self._by_state.update({s.name: s for s in self.states})
        for s in self.states:
            self._from_state[s.name] = tuple(t for t in self.transitions if s.name in t.sources)

    def state(self, name: str) -> StateDef | None:
        return self._by_state.get(name)

    def transition(self, trigger: str) -> TransitionDef | None:
        return self._by_trigger.get(trigger)

    def transitions_from(self, stage: str) -> tuple[TransitionDef, ...]:
        return self._from_state.get(stage, ())

    @property
    def state_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.states)

    def to_mermaid(self) -> str:
        """Render the workflow as a Mermaid state diagram."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for s in self.states:
            lines.append(f"    {s.name}: {s.label}")
        for t in self.transitions:
            for src in t.sources:
                lines.append(f"    {src} --> {t.dest}: {t.trigger}")
        for s in self.states:
            if s.terminal:
                lines.append(f"    {s.name} --> [*]")
        return "\n".join(lines)


def _fail(source: str, item: str, message: str) -> DefinitionError:
    return DefinitionError(f"{source}: {item}: {message}")


def _check_keys(source, item, data, allowed, required):
    if not isinstance(data, dict):
        raise _fail(source, item, "must be a mapping")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _fail(source, item, f"unknown key(s) {', '.join(unknown)}")
    missing = sorted(required - set(data))
    if missing:
        raise _fail(source, item, f"missing key(s) {', '.join(missing)}")


def _str_list(source, item, value, what) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, item, f"{what} must be a list of names")
    return tuple(value)


def _parse_state(source: str, raw) -> StateDef:
    name = raw.get("name") if isinstance(raw, dict) else None
    item = f"state {name!r}"
    _check_keys(source, item, raw, _STATE_KEYS, {"name", "label"})
    due = raw.get("due_in_days")
    if due is not None and (not isinstance(due, int) or isinstance(due, bool) or due < 1):
        raise _fail(source, item, "due_in_days must be a positive whole number")
    return StateDef(
        name=str(name),
        label=str(raw["label"]),
        terminal=bool(raw.get("terminal", False)),
        editable=bool(raw.get("editable", False)),
        reviewing=bool(raw.get("reviewing", False)),
        due_in_days=due,
        description=str(raw.get("description", "")),
    )


def _parse_transition(source: str, raw) -> TransitionDef:
    trigger = raw.get("trigger") if isinstance(raw, dict) else None
    item = f"transition {trigger!r}"
    _check_keys(source, item, raw, _TRANSITION_KEYS, _REQUIRED_TRANSITION_KEYS)
    return TransitionDef(
        trigger=str(trigger),
        label=str(raw.get("label") or str(trigger).replace("_", " ").capitalize()),
        sources=_str_list(source, item, raw["sources"], "sources"),
        dest=str(raw["dest"]),
        roles=frozenset(_str_list(source, item, raw["roles"], "roles")),
        guards=_str_list(source, item, raw.get("guards"), "guards"),
        effects=_str_list(source, item, raw.get("effects"), "effects"),
        requires_comment=bool(raw.get("requires_comment", False)),
        notify=_parse_notify(source, item, raw.get("notify")),
    )


def _parse_notify(source, item, raw) -> tuple[NotifyDef, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail(source, item, "notify must be a list of {kind, to}")
    result = []
    for entry in raw:
        _check_keys(source, f"{item} notify", entry, {"kind", "to"}, {"kind", "to"})
        to = _str_list(source, item, entry["to"], "notify to")
        if not to:
            raise _fail(source, item, f"notify {entry['kind']!r} needs at least one audience")
        result.append(NotifyDef(kind=str(entry["kind"]), to=to))
    return tuple(result)


def parse_definition(data, source: str, guards, effects, kinds=None,
                     audiences=None) -> WorkflowDef:
    """Build and validate one workflow; `guards`/`effects`/`kinds`/`audiences` are the
    known names (notification kinds and audiences default to the shipped ones)."""
    if kinds is None or audiences is None:
        from ..audiences import AUDIENCES
        from ..notifications import KINDS

        kinds = KINDS if kinds is None else kinds
        audiences = AUDIENCES if audiences is None else audiences
    _check_keys(source, "workflow", data, _WORKFLOW_KEYS, _REQUIRED_WORKFLOW_KEYS)
    if not isinstance(data["states"], list) or not data["states"]:
        raise _fail(source, "states", "must be a non-empty list")
    if not isinstance(data["transitions"], list):
        raise _fail(source, "transitions", "must be a list")
    states = [_parse_state(source, s) for s in data["states"]]
    names = [s.name for s in states]
    for n in names:
        if names.count(n) > 1:
            raise _fail(source, f"state {n!r}", "duplicate state")
    transitions = [_parse_transition(source, t) for t in data["transitions"]]
    seen: set[str] = set()
    for t in transitions:
        item = f"transition {t.trigger!r}"
        if t.trigger in seen:
            raise _fail(source, item, "duplicate trigger")
        seen.add(t.trigger)
        if not t.trigger.isidentifier():
            raise _fail(source, item, "trigger must be a Python identifier")
        if not t.sources:
            raise _fail(source, item, "needs at least one source state")
        for s in (*t.sources, t.dest):
            if s not in names:
                raise _fail(source, item, f"unknown state {s!r}")
        if not t.roles:
            raise _fail(source, item, "needs at least one role")
        for r in sorted(t.roles - TRANSITION_ROLES):
            raise _fail(source, item, f"unknown role {r!r}")
        for g in t.guards:
            if g not in guards:
                raise _fail(source, item, f"unknown guard {g!r}")
        for e in t.effects:
            if e not in effects:
                raise _fail(source, item, f"unknown effect {e!r}")
        for n in t.notify:
            if n.kind not in kinds:
                raise _fail(source, item, f"unknown notification kind {n.kind!r}")
            for a in n.to:
                if a not in audiences:
                    raise _fail(source, item, f"unknown audience {a!r}")
    initial = data["initial"]
    if initial not in names:
        raise _fail(source, "initial", f"unknown state {initial!r}")
    checklist = _parse_checklist(source, data.get("checklist"))
    wf = WorkflowDef(
        key=str(data["key"]),
        label=str(data["label"]),
        initial=initial,
        states=tuple(states),
        transitions=tuple(transitions),
        checklist=checklist,
        description=str(data.get("description", "")),
        source=source,
    )
    _check_graph(wf)
    return wf


def _parse_checklist(source, raw) -> tuple[ChecklistItem, ...]:
    items = []
    for entry in raw or []:
        key = entry.get("key") if isinstance(entry, dict) else None
        _check_keys(source, f"checklist item {key!r}", entry, {"key", "label"}, {"key", "label"})
        if key in {i.key for i in items}:
            raise _fail(source, f"checklist item {key!r}", "duplicate key")
        items.append(ChecklistItem(str(key), str(entry["label"])))
    return tuple(items)


def _check_graph(wf: WorkflowDef) -> None:
    reached = {wf.initial}
    queue = deque([wf.initial])
    while queue:
        for t in wf.transitions_from(queue.popleft()):
            if t.dest not in reached:
                reached.add(t.dest)
                queue.append(t.dest)
    for s in wf.states:
        if s.name not in reached:
            raise _fail(wf.source, f"state {s.name!r}", f"unreachable from {wf.initial!r}")
        outgoing = wf.transitions_from(s.name)
        if s.terminal and outgoing:
            raise _fail(wf.source, f"state {s.name!r}", "is terminal but has outgoing transitions")
        if s.terminal and s.editable:
            raise _fail(wf.source, f"state {s.name!r}", "is terminal and cannot be editable")
        if not s.terminal and not outgoing:
            raise _fail(wf.source, f"state {s.name!r}", "has no way out; mark it terminal")


def load_file(path: Path, guards, effects) -> WorkflowDef:
    """Load and validate one definition file."""
    source = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{source}: not valid YAML: {exc}") from exc
    wf = parse_definition(data, source, guards, effects)
    if wf.key != path.stem:
        raise _fail(source, "key", f"{wf.key!r} must equal the file name {path.stem!r}")
    return wf


def load_all(directory: Path | None = None, guards=None, effects=None) -> dict[str, WorkflowDef]:
    """Load every *.yaml definition in `directory` (default: this package)."""
    from ..effects import EFFECTS
    from ..guards import GUARDS

    guards = GUARDS if guards is None else guards
    effects = EFFECTS if effects is None else effects
    directory = directory or DEFINITIONS_DIR
    result = {}
    for path in sorted(directory.glob("*.yaml")):
        wf = load_file(path, guards, effects)
        result[wf.key] = wf
    if not result:
        raise DefinitionError(f"no workflow definitions found in {directory.name}/")
    return result


@cache
def registry() -> dict[str, WorkflowDef]:
    """The shipped workflows, loaded once per process."""
    return load_all()


def get_workflow(key: str) -> WorkflowDef:
    """Return the workflow named `key`; KeyError if unknown."""
    return registry()[key]
