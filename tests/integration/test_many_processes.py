"""Separate gunicorn processes on 127.0.0.1 sharing one database (production settings):
the same transition fired at once by 8 clients through both has exactly one winner per
round, the rest 409, no 5xx and one audit event; nothing lives in a process (a session
cookie and a document from one process work on the other). SQLite: one process."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from workflow.models import AuditEvent, Document, Partnership

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 50
CLIENTS = 8
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, headers=None, raw=None):
    """One request on its own connection: (status, headers, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = dict(headers or {})
        if body is not None:
            raw = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=raw, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


class Servers:
    """gunicorn processes (2 workers each), each with its own instance folder."""

    def __init__(self, url: str, count: int, tmp_path: Path) -> None:
        from contracts.signing import create_dev_keypair

        key, cert = create_dev_keypair(tmp_path / "platform")
        env = {**os.environ, "CLUSTERPACT_ENV": "production", "DATABASE_URL": url,
               "SECRET_KEY": secrets.token_urlsafe(48), "TRUSTED_HOSTS": "127.0.0.1",
               "SIGNING_KEY_PATH": str(key), "SIGNING_CERT_PATH": str(cert)}
        self.procs, self.ports, self.logs = [], [], []
        for i in range(count):
            port, log = _free_port(), tmp_path / f"gunicorn-{i}.log"
            instance = tmp_path / f"instance-{i}"
            with open(log, "wb") as out:
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                     "--log-level", "warning", "wsgi:app"],
                    cwd=ROOT, env={**env, "CLUSTERPACT_INSTANCE": str(instance)},
                    stdout=out, stderr=subprocess.STDOUT))
            self.ports.append(port)
            self.logs.append(log)
        for port in self.ports:
            self._wait(port)

    def _wait(self, port) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if call(port, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"gunicorn on {port} did not start:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return "\n".join(log.read_text(errors="replace")[-3000:] for log in self.logs)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=30)


@pytest.fixture
def servers(database, tmp_path):
    started = Servers(database.url, 2 if database.kind == "postgresql" else 1, tmp_path)
    yield started
    started.stop()


def token(port, email) -> str:
    status, _, body = call(port, "POST", "/api/v1/tokens",
                           {"email": email, "password": PASSWORD})
    assert status == 201, body
    return json.loads(body)["token"]


def test_same_transition_from_8_clients_has_one_winner_per_round(
        database, session, make_user, make_org, make_partnership, servers):
    owner = make_user("coordinator")
    eu, cn = make_org("IT"), make_org("CN", kind="sme")
    targets = [(p.id, p.version) for p in (
        make_partnership("draft", owner=owner, eu=eu, counterpart=cn) for _ in range(ROUNDS))]
    session.rollback()
    # A token issued by one process is used through the other.
    tokens = [token(port, owner.email) for port in servers.ports]
    barrier = threading.Barrier(CLIENTS)
    statuses = [[0] * CLIENTS for _ in range(ROUNDS)]

    def client(i):
        port = servers.ports[i % len(servers.ports)]
        auth = {"Authorization": f"Bearer {tokens[(i + 1) % len(tokens)]}"}
        for r, (pid, version) in enumerate(targets):
            barrier.wait(timeout=60)
            statuses[r][i] = call(port, "POST", f"/api/v1/partnerships/{pid}/transitions",
                                  {"trigger": "start_due_diligence",
                                   "expected_version": version}, auth)[0]

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)

    expected = [200] + [409] * (CLIENTS - 1)
    assert [sorted(s) for s in statuses] == [expected] * ROUNDS, servers.log_tail()
    ids = [pid for pid, _ in targets]
    with database.sessions() as s:
        stored = {p.id: (p.stage, p.version) for p in s.scalars(
            select(Partnership).where(Partnership.id.in_(ids)))}
        events = dict(s.execute(
            select(AuditEvent.partnership_id, func.count(AuditEvent.id))
            .where(AuditEvent.partnership_id.in_(ids), AuditEvent.action == "transition",
                   AuditEvent.trigger == "start_due_diligence")
            .group_by(AuditEvent.partnership_id)).all())
    assert stored == {pid: ("due_diligence", version + 1) for pid, version in targets}
    assert events == dict.fromkeys(ids, 1)  # one audit event per winner: none lost or doubled


@pytest.mark.parametrize("database", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_processes_share_no_state(database, session, make_partnership, servers):
    from workflow.models import User

    p = make_partnership("signing")
    owner = session.get(User, p.owner_id)
    session.rollback()
    a, b = servers.ports

    # A session cookie from process A is honoured by process B.
    status, headers, page = call(a, "GET", "/login")
    cookie = headers["Set-Cookie"].split(";")[0]
    form = (f"email={owner.email}&password={PASSWORD.replace(' ', '+')}&next=&csrf_token="
            f"{CSRF.search(page.decode()).group(1)}")
    status, headers, _ = call(a, "POST", "/login", raw=form.encode(), headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 302, servers.log_tail()
    cookie = headers["Set-Cookie"].split(";")[0]
    status, _, page = call(b, "GET", "/dashboard", headers={"Cookie": cookie})
    assert status == 200 and owner.display_name in page.decode()

    # A document uploaded through A downloads byte-identical from B.
    upload = os.urandom(50_000)
    boundary = secrets.token_hex(8)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"signed.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode() + (
        upload + f"\r\n--{boundary}--\r\n".encode())
    auth = {"Authorization": f"Bearer {token(a, owner.email)}"}
    status, _, answer = call(a, "POST", f"/api/v1/partnerships/{p.id}/signed-copies", raw=body,
                             headers={**auth, "Content-Type":
                                      f"multipart/form-data; boundary={boundary}"})
    assert status == 422, answer  # not a signed copy: rejected, but kept as evidence
    doc_id = json.loads(answer)["document_id"]
    status, _, content = call(b, "GET", f"/api/v1/partnerships/{p.id}/documents/{doc_id}",
                              headers=auth)
    assert status == 200 and content == upload
    with database.sessions() as s:
        assert s.get(Document, doc_id).size == len(upload)
