"""Every id on a rendered page is unique (WCAG 4.1.1): labels, error messages and
aria-describedby point at one element. Hidden form fields (the CSRF token, the version a
form edits) are printed without an id, since a page holds several forms."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: Counter[str] = Counter()

    def handle_starttag(self, _tag, attrs) -> None:
        for name, value in attrs:
            if name == "id" and value:
                self.ids[value] += 1


def duplicated_ids(html: str) -> dict[str, int]:
    parser = _Ids()
    parser.feed(html)
    return {name: n for name, n in parser.ids.items() if n > 1}


def _checked(client, urls) -> dict[str, dict[str, int]]:
    found = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        found[url] = duplicated_ids(response.get_data(as_text=True))
    return found


def test_pages_with_several_forms_repeat_no_id(client, auth, make_partnership, make_user):
    p = make_partnership("draft")
    for _ in range(3):
        make_user("legal")
    auth.login(p.owner.email)
    pages = _checked(client, [f"/partnerships/{p.id}", "/partnerships/new", "/notifications/",
                              "/account/password", "/account/calendar", "/account/api-tokens"])
    assert pages == {url: {} for url in pages}


def test_the_review_and_admin_pages_repeat_no_id(client, auth, make_partnership, make_user):
    p = make_partnership("legal_review")
    legal = make_user("legal")
    auth.login(legal.email)
    assert _checked(client, [f"/partnerships/{p.id}/review", f"/partnerships/{p.id}"]) == {
        f"/partnerships/{p.id}/review": {}, f"/partnerships/{p.id}": {}}
    auth.logout()
    auth.login(make_user("admin").email)
    assert _checked(client, ["/admin/users", "/admin/risk", "/admin/organisations"]) == {
        "/admin/users": {}, "/admin/risk": {}, "/admin/organisations": {}}
