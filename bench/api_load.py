"""The transition endpoint under load (issue 6): gunicorn with 2 and 4 workers on SQLite and
PostgreSQL, 8 concurrent clients on 127.0.0.1 for a bounded time; requests/s, p50/p95, and
the ratio to advance() called in-process on the same cycle.

Each client owns partnerships and walks them submit_for_review (coordinator) ->
request_changes (legal) -> submit_for_review ..., passing the version it last saw.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from contracts.issuing import DocumentSettings, bind
from contracts.signing import create_dev_keypair, load_signer
from workflow.models import User
from workflow.services.transitions import advance

from .common import backends, database, row

PARTNERSHIPS = 16


def _setup(sessions):
    """16 compliant partnerships in negotiation; one warm-up round lays out their PDFs."""
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
        ids = []
        for _ in range(PARTNERSHIPS):
            p = build_partnership(s, coord, legal, eu, cn, "negotiation")
            make_compliant(s, coord, p)
            advance(s, p.id, "submit_for_review", coord)
            ids.append(advance(s, p.id, "request_changes", legal, comment="Warm-up").id)
        return ids, {"coordinator": coord.id, "legal": legal.id}

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "b" * 20 + "enchmark-secret-key-0123"
CLIENTS = 8
SECONDS = 8.0
PASSWORD = "benchmark password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port, method, path, body=None, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, (json.loads(data) if data else None)


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


def _load(port, ids, tokens) -> tuple[list[float], int, int]:
    """8 clients for SECONDS; returns (latencies of 2xx, errors, conflicts)."""
    latencies, errors, conflicts = [], [0], [0]
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS
    shares = [ids[i::CLIENTS] for i in range(CLIENTS)]

    def client(mine):
        state = {}
        for pid in mine:
            state[pid] = _request(port, "GET", f"/api/v1/partnerships/{pid}",
                                  token=tokens["coordinator"])[1]
        i = 0
        while time.monotonic() < deadline:
            pid = mine[i % len(mine)]
            i += 1
            current = state[pid]
            if current["stage"] == "negotiation":
                body, token = {"trigger": "submit_for_review"}, tokens["coordinator"]
            else:
                body = {"trigger": "request_changes", "comment": "Another round."}
                token = tokens["legal"]
            body["expected_version"] = current["version"]
            start = time.perf_counter()
            status, data = _request(port, "POST", f"/api/v1/partnerships/{pid}/transitions",
                                    body, token)
            elapsed = time.perf_counter() - start
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                    state[pid] = data
                elif status == 409:
                    conflicts[0] += 1
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=client, args=(mine,)) for mine in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors[0], conflicts[0]


def _engine_rate(sessions, ids, actor_ids) -> float:
    """advance() in-process on the same cycle, single thread."""
    with sessions() as s:
        actors = {r: s.get(User, i) for r, i in actor_ids.items()}
        stages = {pid: s.get(__import__("workflow.models", fromlist=["Partnership"])
                             .Partnership, pid).stage for pid in ids}
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < 3.0:
            for pid in ids:
                if stages[pid] == "negotiation":
                    p = advance(s, pid, "submit_for_review", actors["coordinator"])
                else:
                    p = advance(s, pid, "request_changes", actors["legal"], comment="Again.")
                stages[pid] = p.stage
                count += 1
        return count / (time.perf_counter() - start)


def run() -> None:
    print("== transition endpoint under load (issue 6)")
    print(row("measure", "backend", "value", "ratio"))
    with tempfile.TemporaryDirectory() as keys:
        bind(DocumentSettings(signer=load_signer(*create_dev_keypair(Path(keys))),
                              prepare_in_background=False))
        for kind in backends():
            with database(kind) as (url, _engine, sessions), \
                    tempfile.TemporaryDirectory() as instance:
                ids, actor_ids = _setup(sessions)
                engine_rate = _engine_rate(sessions, ids, actor_ids)
                tokens = None
                for workers in (2, 4):
                    server, port = _serve(url, workers, instance)
                    try:
                        tokens = tokens or _tokens(port)
                        lat, errors, conflicts = _load(port, ids, tokens)
                    finally:
                        server.terminate()
                        server.wait(timeout=30)
                    rps = len(lat) / SECONDS
                    p50 = statistics.median(lat) * 1000
                    p95 = statistics.quantiles(lat, n=20)[18] * 1000
                    print(row(f"POST transitions, {workers} workers, {CLIENTS} clients", kind,
                              f"{rps:,.0f}/s", f"{rps / engine_rate:.0%} of advance() "
                              f"({engine_rate:,.0f}/s); p50 {p50:.0f} ms, p95 {p95:.0f} ms"
                              f"; 5xx/other {errors}, 409 {conflicts}"))
