"""The world the authorization matrix runs in: real objects made by the services, one logged-in
session (or API token) per principal, and a snapshot of the database so every writing request
starts from the same state.

SQLite only: the snapshot is taken and restored with SQLite's online backup API (a page copy
of a small database), which keeps the matrix fast. Authorization does not depend on the
database engine; the PostgreSQL runs of the other web and API tests cover the engine.
"""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from tests.api.conftest import grant_token
from tests.conftest import PASSWORD
from tests.helpers import build_partnership
from tests.web.conftest import Auth, csrf_token
from workflow.models import CountryRisk, Notification, Obligation, Partnership, SafeguardRule
from workflow.roles import SYSTEM_ACTOR
from workflow.services import background, calendar, organisations, publications, users
from workflow.services.documents import upload_signed_copy
from workflow.services.obligations import COMPLETABLE

PRINCIPALS = ("anonymous", "coordinator", "legal", "partner", "admin", "partner_other",
              "deactivated")
REDIRECTS = (301, 302, 303, 307, 308)
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Principal:
    name: str
    cookie: str | None = None  # the session cookie after logging in through the pages
    csrf: str | None = None
    token: str | None = None  # a personal API token


@dataclass
class World:
    app: object
    path: str  # the SQLite database file
    ids: dict = field(default_factory=dict)
    principals: dict = field(default_factory=dict)
    _snapshot: sqlite3.Connection | None = None
    _dirty: bool = False

    def snapshot(self) -> None:
        self._snapshot = sqlite3.connect(":memory:")
        source = sqlite3.connect(self.path)
        try:
            source.backup(self._snapshot)
        finally:
            source.close()

    def restore(self) -> None:
        target = sqlite3.connect(self.path, timeout=15)
        try:
            self._snapshot.backup(target)
        finally:
            target.close()
        from workflow.risk import invalidate_reference

        invalidate_reference()

    def fill(self, value):
        """Put world ids into a path or body: "{draft}" is the id itself, "a/{draft}" text."""
        if isinstance(value, str):
            if value.startswith("{") and value.endswith("}") and value[1:-1] in self.ids:
                return self.ids[value[1:-1]]
            return value.format_map(self.ids)
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        return value

    def outcome(self, entry: dict, principal: str) -> str:
        """Send the entry's request as `principal`; its outcome in the matrix's words."""
        if self._dirty:
            self.restore()
            self._dirty = False
        method = entry["method"]
        response = self._send(entry, self.principals[principal], method)
        response.close()  # file downloads hold their file open until closed
        self._dirty = method in WRITES
        if response.status_code in REDIRECTS:
            location = response.headers.get("Location", "")
            return "login" if location.split("?")[0].endswith("/login") else "302"
        return str(response.status_code)

    def _send(self, entry: dict, who: Principal, method: str):
        client = self.app.test_client()
        api = entry["endpoint"].startswith("api.v1.")
        headers = {}
        if api and who.token:
            headers["Authorization"] = f"Bearer {who.token}"
        if not api and who.cookie:
            client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], who.cookie)
        kwargs = {"headers": headers}
        body = self.fill(entry.get("data") or {})
        files = entry.get("files") or {}
        if files:
            body = {**body, **{name: (io.BytesIO(content.encode()), filename)
                               for name, (filename, content) in files.items()}}
            kwargs["content_type"] = "multipart/form-data"
        if api and not files and method in WRITES and entry.get("data") is not None:
            kwargs["json"] = body
        elif method in WRITES and not api:
            kwargs["data"] = {**body, "csrf_token": who.csrf or ""}
        elif files:
            kwargs["data"] = body
        return client.open(self.fill(entry["path"]), method=method, **kwargs)


def build_world(app, session, db_path: str) -> World:
    """Make every object the matrix's paths name, log each principal in, then snapshot."""
    world = World(app, db_path)
    ids = world.ids
    org = organisations.create_organisation
    eu = org(session, SYSTEM_ACTOR, "Authz EU Cluster", "IT", "cluster")
    cn = org(session, SYSTEM_ACTOR, "Authz CN SME", "CN", "sme")
    other = org(session, SYSTEM_ACTOR, "Authz IN SME", "IN", "sme")
    extra = org(session, SYSTEM_ACTOR, "Authz NO SME", "NO", "sme")
    people = {}
    for name, role, organisation in (
            ("coordinator", "coordinator", None), ("legal", "legal", None),
            ("admin", "admin", None), ("partner", "partner", cn),
            ("partner_other", "partner", other), ("deactivated", "coordinator", None),
            ("target", "partner", cn)):
        people[name] = users.create_user(session, SYSTEM_ACTOR, f"authz-{name}@example.org",
                                         name.title(), role, PASSWORD,
                                         organisation.id if organisation else None)
    coordinator, legal = people["coordinator"], people["legal"]
    ids.update({f"user_{k}": u.id for k, u in people.items()})
    ids.update(eu=eu.id, cn=cn.id, other=other.id, extra=extra.id)

    for key, stage in (("draft", "draft"), ("nego", "negotiation"), ("review", "legal_review"),
                       ("signing", "signing"), ("active", "active")):
        p = build_partnership(session, coordinator, legal, eu, cn, stage)
        ids[key], ids[f"{key}_v"] = p.id, p.version
        ids[f"{key}_lead"], ids[f"{key}_cp"] = p.parties[0].id, p.parties[1].id
        ids[f"{key}_clause"] = p.clauses[0].clause_key
        ids[f"{key}_option"] = p.clauses[0].option_key
    asset = background.add_asset(session, coordinator, ids["nego"], ids["nego_lead"],
                                 background.AssetInput("Sensor patent", "patent"))
    ids["nego_asset"] = asset.id
    copy = upload_signed_copy(session, people["partner"], ids["signing"], b"%PDF-1.7 no",
                              "signed.pdf", app.extensions["clusterpact.verifier"])
    ids["signing_copy"] = copy.id
    ids["signing_issued"] = copy.issued_document_id
    ids["rule"] = session.scalars(select(SafeguardRule.key).order_by(SafeguardRule.key)).first()
    pub = publications.register_publication(session, people["partner"], ids["active"],
                                            ids["active_cp"], "Sensor results",
                                            date.today() + timedelta(days=365))
    ids["publication"] = pub.id
    # The lead party's window to object to the partner's publication: staff or the lead's
    # partners may close it.
    ids["obligation"] = session.scalars(select(Obligation.id).where(
        Obligation.partnership_id == ids["active"], Obligation.status == "open",
        Obligation.kind.in_(COMPLETABLE)).order_by(Obligation.id)).first()
    risk = session.scalars(select(CountryRisk).order_by(CountryRisk.id)).first()
    ids["risk_country"], ids["risk_tier"] = risk.country, risk.tier_key
    ids["notification"] = session.scalars(select(Notification.id).where(
        Notification.user_id == coordinator.id).order_by(Notification.id)).first()
    ids["calendar_token"] = calendar.create_feed(session, coordinator).secret

    for key in ("draft", "nego", "review", "signing", "active"):  # after every change above
        ids[f"{key}_v"] = session.get(Partnership, ids[key], populate_existing=True).version
    _log_in(world, people)
    ids["spare_token"] = _spare_token_id(session, coordinator)
    users.set_active(session, people["admin"], people["deactivated"].id, False)
    world.snapshot()
    return world


def _log_in(world: World, people: dict) -> None:
    """Log each principal in through the real forms; keep its cookie, CSRF token and token."""
    app = world.app
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    world.principals["anonymous"] = Principal(
        "anonymous", client.get_cookie(cookie_name).value, csrf_token(page))
    with app.extensions["clusterpact.sessions"]() as session:
        for name in PRINCIPALS[1:]:
            client = app.test_client()
            auth = Auth(client)
            response = auth.login(people[name].email)
            assert response.status_code == 302, f"{name} could not log in"
            page = client.get("/account/security").get_data(as_text=True)
            world.principals[name] = Principal(
                name, client.get_cookie(cookie_name).value, csrf_token(page),
                grant_token(session, people[name]))


def _spare_token_id(session, coordinator) -> int:
    from workflow.models import ApiToken
    from workflow.services.tokens import hash_secret

    secret = grant_token(session, coordinator, name="spare")
    return session.scalar(select(ApiToken.id).where(ApiToken.token_hash == hash_secret(secret)))
