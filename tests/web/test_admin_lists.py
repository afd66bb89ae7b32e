"""The admin's users and organisations lists come a page at a time (50 rows), with links
to the other pages, so they stay usable as a cluster network grows."""

from __future__ import annotations

import re


def _rows(html: str) -> int:
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return body.count("<tr>")


def test_users_come_fifty_to_a_page(client, auth, make_user):
    admin = make_user("admin")
    for _ in range(60):
        make_user("legal")
    auth.login(admin.email)
    first = client.get("/admin/users").get_data(as_text=True)
    assert _rows(first) == 50 and "Page 1 of 2 (61 in all)" in first
    assert re.search(r'<a href="/admin/users\?page=2" rel="next">Next</a>', first)
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert _rows(second) == 11 and "Page 2 of 2 (61 in all)" in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert client.get("/admin/users?page=99").get_data(as_text=True).count("Page 2 of 2") == 1
    assert _rows(client.get("/admin/users?page=abc").get_data(as_text=True)) == 50


def test_organisations_come_fifty_to_a_page(client, auth, make_user, make_org):
    for _ in range(55):
        make_org("DE")
    auth.login(make_user("admin").email)
    first = client.get("/admin/organisations").get_data(as_text=True)
    assert _rows(first) == 50 and "Page 1 of 2 (55 in all)" in first
    second = client.get("/admin/organisations?page=2").get_data(as_text=True)
    assert _rows(second) == 5


def test_a_short_list_has_no_pager(client, auth, make_user, make_org):
    make_org("IT")
    auth.login(make_user("admin").email)
    for url in ("/admin/users", "/admin/organisations"):
        assert 'class="pager"' not in client.get(url).get_data(as_text=True)
