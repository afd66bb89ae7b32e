"""iCalendar (RFC 5545) text of a user's feed, built with the icalendar library."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from workflow.services.calendar import FeedEvent


def to_ics(events: list[FeedEvent], base_url: str, now: datetime, name: str) -> bytes:
    """One all-day VEVENT per event, each with a stable UID and a link to its page."""
    cal = Calendar()
    cal.add("prodid", "-//ClusterPact//Obligations and deadlines//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    for e in events:
        url = base_url + e.path
        event = Event()
        event.add("uid", e.uid)
        event.add("dtstamp", now)
        event.add("dtstart", e.day)
        event.add("dtend", e.day + timedelta(days=1))
        event.add("summary", e.summary)
        event.add("description", f"{e.description}\n{url}")
        event.add("url", url)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
