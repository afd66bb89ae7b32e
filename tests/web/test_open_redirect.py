"""`next` after login: only same-site relative paths; a corpus of open-redirect vectors, each
sent the way an attacker's link sends it (the query string of /login), must land on the
dashboard. The check does not depend on the database, so it runs on SQLite only."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

import pytest

from tests.conftest import PASSWORD
from tests.web.conftest import csrf_token
from web.auth.principal import safe_next

NEXT_FIELD = re.compile(r'<input[^>]*name="next"[^>]*value="([^"]*)"')

# As they appear in a link: /login?next=<vector>
VECTORS = [
    "//evil.example",
    "///evil.example",
    "/%5Cevil.example",  # /\evil.example
    "%5C%5Cevil.example",  # \\evil.example
    "/%09/evil.example",  # a tab browsers drop: //evil.example
    "/%0D%0ALocation:%20https://evil.example",  # header splitting
    "%20//evil.example",  # leading space
    "%2F%2Fevil.example",  # //evil.example, encoded once
    "/%252F/evil.example",  # /%2F/evil.example: an encoded slash in the path
    "/%255Cevil.example",  # /%5Cevil.example: an encoded backslash in the path
    "https:evil.example",
    "http://evil.example",
    "https://evil.example/dashboard",
    "http:/%5C/evil.example",
    "javascript:alert(document.domain)",
    "data:text/html,%3Cscript%3Ealert(1)%3C/script%3E",
    "@evil.example",
    "//user@evil.example",
    "/%EF%BC%8F/evil.example",  # a fullwidth solidus
    "evil.example",
]

SAME_SITE = ["/partnerships/", "/partnerships/?stage=draft", "/review/"]

sqlite_only = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def login_through_link(client, email: str, link_next: str):
    """Follow /login?next=... as a browser would, then submit the form it shows."""
    page = client.get(f"/login?next={link_next}").get_data(as_text=True)
    match = NEXT_FIELD.search(page)
    assert match, "the login form carries `next` in a hidden field"
    carried = html.unescape(match.group(1))
    return client.post("/login", data={"email": email, "password": PASSWORD, "next": carried,
                                       "csrf_token": csrf_token(page)})


@sqlite_only
@pytest.mark.parametrize("vector", VECTORS)
def test_open_redirect_vector_lands_on_the_dashboard(client, make_user, vector):
    user = make_user("coordinator")
    response = login_through_link(client, user.email, vector)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


@sqlite_only
@pytest.mark.parametrize("target", SAME_SITE)
def test_same_site_path_is_kept(client, make_user, target):
    user = make_user("coordinator")
    response = login_through_link(client, user.email, target)
    assert response.headers["Location"] == target


@pytest.mark.parametrize("vector", VECTORS)
def test_safe_next_refuses_the_vector_decoded_and_as_given(vector):
    assert safe_next(unquote(vector)) is None  # as the login form carries it
    if "%25" not in vector:  # a literal /%2F/ path is harmless; its decoded form is refused
        assert safe_next(vector) is None
