"""The bell: a legal advisor sends a partnership back, its owner sees the count, opens the
list with the keyboard and marks the notification read."""

from __future__ import annotations

import re

from tests.browser.test_keyboard import tab_to
from tests.browser.ui import expect, login, logout


def test_owner_is_told_by_the_bell_and_marks_it_read(page, shot, world, live_app):
    eu, cn = world.org("IT", "cluster"), world.org("CN", "sme")
    coordinator, legal = world.user("coordinator", eu), world.user("legal")
    pid, reference = world.partnership(coordinator, legal, eu, cn, stage="legal_review")

    login(page, legal)
    page.goto(f"/partnerships/{pid}")
    page.get_by_label("Comment for “Request changes” (required)").fill("Cap the liability.")
    page.get_by_role("button", name=re.compile("^Request changes")).click()
    logout(page)

    login(page, coordinator)
    nav = page.get_by_role("navigation", name="Main")
    bell = nav.get_by_role("link", name=re.compile(r"^Notifications 1 unread$"))
    expect(bell).to_be_visible()
    shot("bell-one-unread")
    tab_to(page, bell)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    item = page.get_by_role("link", name=f"{reference}: legal review requests changes")
    expect(item).to_be_visible()
    expect(page.locator("main")).to_contain_text("Cap the liability.")
    mark = page.get_by_role("button", name=re.compile("^Mark as read"))
    tab_to(page, mark)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Marked as read.")).to_be_visible()
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    shot("bell-all-read")
