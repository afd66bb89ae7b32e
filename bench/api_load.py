"""The transition endpoint under load (issue 6): gunicorn with 2 and 4 workers on SQLite and
PostgreSQL, 8 concurrent clients on 127.0.0.1, each sending a bounded number of requests;
requests/s, p50/p95, and the ratio to advance() called in-process on the same transitions.

Two workloads:
- first step: start_due_diligence on fresh drafts (the foundation benchmark's transition;
  its guards read the parties), one draft per request;
- review round: submit_for_review (coordinator) and request_changes (legal) in turn on 16
  compliant partnerships; submission checks 17 clauses against the country rules, both
  steps queue notifications, and submission looks up the prepared PDF.
Clients pass the version they last saw, as an integration would.

The load generator shares the machine with the server, so it is kept light: each client is
its own process (no GIL between clients, so an answer is read the moment it arrives) sending
HTTP/1.1 over a plain socket; its CPU time per request is reported beside gunicorn's.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from contracts.issuing import DocumentSettings, bind
from contracts.signing import create_dev_keypair, load_signer
from workflow.models import Partnership, User
from workflow.services.transitions import advance

from .common import backends, database, row

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "b" * 20 + "enchmark-secret-key-0123"
PASSWORD = "benchmark password"
CLIENTS = 8
REQUESTS_PER_CLIENT = 150  # per run: 1,200 timed requests
WARM_UP_PER_CLIENT = 10  # first requests of each client, not timed (worker start, caches)
ROUND_PARTNERSHIPS = 16
IN_PROCESS_DRAFTS = 600
WORKERS = (2, 4)
BARRIER_TIMEOUT_S = 600  # no run takes this long; a stuck one fails instead of hanging
WIDTHS = (82, 12, 8, 12)


@dataclass
class World:
    drafts: list[int]
    round_ids: list[int]
    actors: dict[str, int]


def _setup(sessions) -> World:
    from contracts.publish import library_payload
    from tests.auth_helpers import enrol
    from tests.helpers import build_partnership, make_compliant
    from workflow.roles import SYSTEM_ACTOR
    from workflow.services import organisations, users
    from workflow.services.library import sync_library
    from workflow.totp import SecretBox

    with sessions() as s:
        sync_library(s, SYSTEM_ACTOR, library_payload())
        eu = organisations.create_organisation(s, SYSTEM_ACTOR, "EU", "IT", "cluster")
        cn = organisations.create_organisation(s, SYSTEM_ACTOR, "CN", "CN", "sme")
        coord = users.create_user(s, SYSTEM_ACTOR, "c@example.org", "C", "coordinator",
                                  PASSWORD)
        legal = users.create_user(s, SYSTEM_ACTOR, "l@example.org", "L", "legal", PASSWORD)
        enrol(s, legal, SecretBox(SECRET_KEY))  # legal advisors must have a second factor
        needed = IN_PROCESS_DRAFTS + len(WORKERS) * CLIENTS * (
            REQUESTS_PER_CLIENT + WARM_UP_PER_CLIENT)
        drafts = [build_partnership(s, coord, legal, eu, cn, "draft").id
                  for _ in range(needed)]
        round_ids = []
        for _ in range(ROUND_PARTNERSHIPS):
            p = build_partnership(s, coord, legal, eu, cn, "negotiation")
            make_compliant(s, coord, p)
            advance(s, p.id, "submit_for_review", coord)  # lays out the final PDF once
            round_ids.append(advance(s, p.id, "request_changes", legal, comment="Warm-up").id)
        return World(drafts, round_ids, {"coordinator": coord.id, "legal": legal.id})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port, method, path, body=None, token=None):
    """One HTTP/1.1 request on its own connection (as every gunicorn sync worker answers):
    (status, parsed JSON body or None)."""
    payload = json.dumps(body).encode() if body is not None else b""
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            + (f"Authorization: Bearer {token}\r\n" if token else "")
            + "Connection: close\r\n\r\n")
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(head.encode("latin-1") + payload)
        while data := conn.recv(65536):
            chunks.append(data)
    header, _, content = b"".join(chunks).partition(b"\r\n\r\n")
    if not header.startswith(b"HTTP/1.") or len(header) < 12:
        raise OSError("not an HTTP answer")
    return int(header[9:12]), (json.loads(content) if content else None)


def _serve(url: str, workers: int, instance: str):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "CLUSTERPACT_ENV": "development",
           "CLUSTERPACT_INSTANCE": instance, "SECRET_KEY": SECRET_KEY}
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and app
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    for _ in range(200):
        try:
            if _request(port, "GET", "/healthz")[0] == 200:
                return server, port
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def _tokens(port) -> dict[str, str]:
    """A bearer token per role; the legal advisor answers the second factor."""
    from tests.auth_helpers import authenticator

    tokens = {}
    for role, email in (("coordinator", "c@example.org"), ("legal", "l@example.org")):
        body = {"email": email, "password": PASSWORD}
        if (app := authenticator(email)) is not None:
            body["totp"] = app.code()
        tokens[role] = _request(port, "POST", "/api/v1/tokens", body)[1]["token"]
    return tokens


class FirstStep:
    """start_due_diligence on a fresh draft per request."""

    name = "first step (start_due_diligence)"

    def __init__(self, drafts: list[int]) -> None:
        self._drafts = iter(drafts)

    def client(self, _index: int):
        """Each client takes its own drafts before the clients start."""
        mine = iter([next(self._drafts)
                     for _ in range(WARM_UP_PER_CLIENT + REQUESTS_PER_CLIENT)])

        def next_request(_tokens):
            return (next(mine), {"trigger": "start_due_diligence", "expected_version": 1},
                    "coordinator")

        def answered(_pid, _data):
            pass

        return next_request, answered

    def sync(self, _sessions) -> None:
        pass

    def in_process(self, session, actors) -> float:
        count, start = 0, time.perf_counter()
        for _ in range(IN_PROCESS_DRAFTS):
            pid = next(self._drafts)
            advance(session, pid, "start_due_diligence", actors["coordinator"])
            count += 1
        return count / (time.perf_counter() - start)


class ReviewRound:
    """submit_for_review and request_changes in turn; each client owns two partnerships."""

    name = "review round (submit / request changes)"

    def __init__(self, ids: list[int], stages: dict[int, tuple[str, int]]) -> None:
        self._ids = ids
        self._state = dict(stages)  # id -> (stage, version)

    @staticmethod
    def _step(stage: str):
        if stage == "negotiation":
            return {"trigger": "submit_for_review"}, "coordinator"
        return {"trigger": "request_changes", "comment": "Another round."}, "legal"

    def client(self, index: int):
        mine = self._ids[index::CLIENTS]
        turn = [0]

        def next_request(_tokens):
            pid = mine[turn[0] % len(mine)]
            turn[0] += 1
            stage, version = self._state[pid]
            body, role = self._step(stage)
            return pid, {**body, "expected_version": version}, role

        def answered(pid, data):
            self._state[pid] = (data["stage"], data["version"])

        return next_request, answered

    def sync(self, sessions) -> None:
        """Take the stages and versions the clients (other processes) left behind."""
        with sessions() as s:
            self._state = {pid: (p.stage, p.version) for pid in self._ids
                           if (p := s.get(Partnership, pid))}

    def in_process(self, session, actors) -> float:
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < 3.0:
            for pid in self._ids:
                stage, _version = self._state[pid]
                body, role = self._step(stage)
                p = advance(session, pid, body["trigger"], actors[role],
                            comment=body.get("comment"))
                self._state[pid] = (p.stage, p.version)
                count += 1
        return count / (time.perf_counter() - start)


def _cpu_seconds(pids) -> float | None:
    """User + system CPU time of the processes so far (Linux /proc; None elsewhere)."""
    total = 0
    try:
        for pid in pids:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    except (OSError, IndexError, ValueError):
        return None
    return total / os.sysconf("SC_CLK_TCK")


def _server_pids(server) -> list[int]:
    """The gunicorn master and its workers."""
    try:
        with open(f"/proc/{server.pid}/task/{server.pid}/children") as f:
            return [server.pid, *map(int, f.read().split())]
    except OSError:
        return [server.pid]


@dataclass
class Outcome:
    latencies: list[float]  # of the timed 200s
    seconds: float  # of the timed phase
    conflicts: int
    other: int
    server_cpu: float | None  # CPU seconds of gunicorn (all processes) in the timed phase
    client_cpu: float  # CPU seconds of the load generator (all clients) in the timed phase


def _client(next_request, answered, port, tokens, warm, done, results) -> None:
    """One client process: its warm-up, then REQUESTS_PER_CLIENT timed requests in a row.
    A client that fails breaks both barriers, so the run stops instead of waiting for it."""
    try:
        latencies, conflicts, other = [], 0, 0
        for n in range(WARM_UP_PER_CLIENT + REQUESTS_PER_CLIENT):
            if n == WARM_UP_PER_CLIENT:
                warm.wait(BARRIER_TIMEOUT_S)
                cpu = time.process_time()
            pid, body, role = next_request(tokens)
            start = time.perf_counter()
            status, data = _request(port, "POST", f"/api/v1/partnerships/{pid}/transitions",
                                    body, tokens[role])
            elapsed = time.perf_counter() - start
            if status == 200:
                answered(pid, data)
                if n >= WARM_UP_PER_CLIENT:
                    latencies.append(elapsed)
            elif status == 409:
                conflicts += 1
            else:
                other += 1
        cpu = time.process_time() - cpu
        done.wait(BARRIER_TIMEOUT_S)
    except BaseException:
        warm.abort()
        done.abort()
        raise
    results.put((latencies, conflicts, other, cpu))


def _load(port, workload, tokens, server) -> Outcome:
    """CLIENTS processes, each sending its warm-up then REQUESTS_PER_CLIENT timed requests;
    the timed phase runs from the moment all have warmed up until the last one finishes."""
    context = multiprocessing.get_context("fork")  # clients inherit the prepared workload
    warm, done = context.Barrier(CLIENTS + 1), context.Barrier(CLIENTS + 1)
    results = context.Queue()
    clients = [context.Process(target=_client,
                               args=(*workload.client(i), port, tokens, warm, done, results))
               for i in range(CLIENTS)]
    for c in clients:
        c.start()
    warm.wait(BARRIER_TIMEOUT_S)  # BrokenBarrierError if a client failed
    pids = _server_pids(server)
    server_before = _cpu_seconds(pids)
    start = time.perf_counter()
    done.wait(BARRIER_TIMEOUT_S)
    seconds = time.perf_counter() - start
    server_after = _cpu_seconds(pids)
    gathered = [results.get(timeout=60) for _ in clients]
    for c in clients:
        c.join()
    server_cpu = (server_after - server_before
                  if server_before is not None and server_after is not None else None)
    return Outcome([x for r in gathered for x in r[0]], seconds,
                   sum(r[1] for r in gathered), sum(r[2] for r in gathered), server_cpu,
                   sum(r[3] for r in gathered))


def _workloads(sessions, world: World):
    with sessions() as s:
        stages = {pid: (p.stage, p.version) for pid in world.round_ids
                  if (p := s.get(Partnership, pid))}
    return FirstStep(world.drafts), ReviewRound(world.round_ids, stages)


def _in_process_rate(sessions, workload, actor_ids) -> float:
    with sessions() as s:
        actors = {role: s.get(User, user_id) for role, user_id in actor_ids.items()}
        return workload.in_process(s, actors)


def run() -> None:
    print("== transition endpoint under load (issue 6)")
    print(row("measure", "backend", "value", "ratio", widths=WIDTHS))
    with tempfile.TemporaryDirectory() as keys:
        bind(DocumentSettings(signer=load_signer(*create_dev_keypair(Path(keys))),
                              prepare_in_background=False))
        for kind in backends():
            with database(kind) as (url, _engine, sessions), \
                    tempfile.TemporaryDirectory() as instance:
                world = _setup(sessions)
                workloads = _workloads(sessions, world)
                rates = {w.name: _in_process_rate(sessions, w, world.actors)
                         for w in workloads}
                tokens = None
                for workers in WORKERS:
                    server, port = _serve(url, workers, instance)
                    try:
                        tokens = tokens or _tokens(port)
                        results = []
                        for w in workloads:
                            results.append((w.name, _load(port, w, tokens, server)))
                            w.sync(sessions)
                    finally:
                        server.terminate()
                        server.wait(timeout=30)
                    for name, outcome in results:
                        _report(kind, workers, name, outcome, rates[name])


def _report(kind, workers, name, outcome: Outcome, engine_rate) -> None:
    lat = outcome.latencies
    rps = len(lat) / outcome.seconds
    p50 = statistics.median(lat) * 1000
    p95 = statistics.quantiles(lat, n=20)[18] * 1000
    cpu = (f"; CPU per request: gunicorn {outcome.server_cpu / len(lat) * 1000:.1f} ms"
           if outcome.server_cpu is not None else "; CPU per request:")
    cpu += f", load generator {outcome.client_cpu / len(lat) * 1000:.1f} ms"
    print(row(f"POST transitions, {name}, {workers} workers, {CLIENTS} clients", kind,
              f"{rps:,.0f}/s", f"{rps / engine_rate:.0%} of advance() ({engine_rate:,.0f}/s)"
              f"; p50 {p50:.0f} ms, p95 {p95:.0f} ms (target < 50)"
              f"; 409 {outcome.conflicts}, other {outcome.other}{cpu}", widths=WIDTHS))
