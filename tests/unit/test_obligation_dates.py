"""The IPR clocks as pure date arithmetic (workflow/obligations.py): no database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.obligations import (
    RENEWAL_NOTICE_DAYS,
    add_months,
    add_years,
    lead_windows,
    parse_lead_days,
    plan_obligations,
    publication_dates,
    tightest_lead,
)

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
COLLABORATION = {
    "term_and_termination": {"option": "fixed_term", "duration_months": 36, "cure_days": 30},
    "access_rights_exploitation": {"option": "fair_and_reasonable", "request_months": 12},
    "confidentiality": {"option": "standard", "term_years": 4, "confirmation_days": 15},
    "publication": {"option": "prior_notice", "notice_days": 45, "objection_days": 30,
                    "max_delay_days": 90},
}


def by_kind(planned):
    return {p.kind: p for p in planned}


def test_month_ends_are_clamped_to_the_shorter_month():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 8, 31), 13) == date(2027, 9, 30)
    assert add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)


@given(DAYS, st.integers(min_value=0, max_value=600))
def test_adding_months_moves_the_month_and_never_the_day_forward(day, months):
    later = add_months(day, months)
    assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == months
    assert later.day <= day.day
    assert later >= day


@given(DAYS, st.integers(min_value=0, max_value=50))
def test_years_are_twelve_months(day, years):
    assert add_years(day, years) == add_months(day, 12 * years)


def test_collaboration_clocks_count_from_the_partnership_end_date():
    planned = by_kind(plan_obligations(COLLABORATION, activated_on=date(2026, 3, 1),
                                       end_date=date(2028, 12, 31)))
    assert planned["agreement_end"].due_on == date(2028, 12, 31)
    assert planned["renewal_notice"].due_on == date(2028, 12, 31) - timedelta(
        days=RENEWAL_NOTICE_DAYS)
    assert planned["access_request_window"].due_on == date(2029, 12, 31)
    assert planned["confidentiality_expiry"].due_on == date(2032, 12, 31)
    assert planned["access_request_window"].owner == planned["confidentiality_expiry"].owner \
        == "parties"
    assert planned["agreement_end"].owner == planned["renewal_notice"].owner == "owner"
    assert planned["confidentiality_expiry"].details["term_years"] == 4
    assert planned["confidentiality_expiry"].details["end_from"] == "partnership end date"


def test_without_an_end_date_the_term_clause_counts_from_activation():
    planned = by_kind(plan_obligations(COLLABORATION, activated_on=date(2026, 1, 31),
                                       end_date=None))
    assert planned["agreement_end"].due_on == date(2029, 1, 31)
    assert planned["agreement_end"].details["end_from"] == "term_and_termination.duration_months"
    assert planned["access_request_window"].due_on == date(2030, 1, 31)


def test_chosen_values_change_the_clocks():
    terms = {**COLLABORATION,
             "confidentiality": {"option": "nnn", "term_years": "7"},
             "access_rights_exploitation": {"option": "royalty_free", "request_months": 24}}
    planned = by_kind(plan_obligations(terms, activated_on=date(2026, 1, 1),
                                       end_date=date(2027, 6, 30)))
    assert planned["confidentiality_expiry"].due_on == date(2034, 6, 30)
    assert planned["confidentiality_expiry"].details["option"] == "nnn"
    assert planned["access_request_window"].due_on == date(2029, 6, 30)


def test_an_nda_counts_its_disclosure_period_and_has_no_access_window():
    terms = {"agreement_term": {"option": "fixed_term", "disclosure_months": 24},
             "confidentiality": {"option": "nnn", "term_years": 5}}
    planned = by_kind(plan_obligations(terms, activated_on=date(2026, 5, 10), end_date=None))
    assert set(planned) == {"agreement_end", "renewal_notice", "confidentiality_expiry"}
    assert planned["agreement_end"].due_on == date(2028, 5, 10)
    assert planned["confidentiality_expiry"].due_on == date(2033, 5, 10)


def test_nothing_runs_without_an_end():
    assert plan_obligations({"confidentiality": {"term_years": 4}},
                            activated_on=date(2026, 1, 1), end_date=None) == []


def test_a_renewal_decision_already_past_at_activation_is_not_planned():
    planned = by_kind(plan_obligations(COLLABORATION, activated_on=date(2026, 1, 1),
                                       end_date=date(2026, 2, 1)))
    assert "renewal_notice" not in planned and "agreement_end" in planned


@given(DAYS, st.one_of(st.none(), DAYS), st.integers(1, 120), st.integers(1, 60),
       st.integers(1, 20))
def test_planned_clocks_have_unique_keys_and_follow_the_end(activated, end, months, request,
                                                            years):
    terms = {"term_and_termination": {"duration_months": months},
             "access_rights_exploitation": {"request_months": request},
             "confidentiality": {"term_years": years}}
    planned = plan_obligations(terms, activated_on=activated, end_date=end)
    kinds = by_kind(planned)
    assert len({p.key for p in planned}) == len(planned)
    end_on = kinds["agreement_end"].due_on
    assert end_on == (end or add_months(activated, months))
    assert kinds["access_request_window"].due_on >= end_on
    assert kinds["confidentiality_expiry"].due_on >= end_on
    if "renewal_notice" in kinds:
        assert activated < kinds["renewal_notice"].due_on < end_on


def test_publication_dates_follow_the_clause_values():
    dates = publication_dates(COLLABORATION["publication"], date(2026, 3, 1))
    assert dates.objection_deadline == date(2026, 3, 31)
    assert dates.earliest_publication == date(2026, 4, 15)
    assert dates.max_delay_days == 90
    short = publication_dates({"notice_days": 10, "objection_days": 5, "max_delay_days": 20},
                              date(2026, 3, 1))
    assert (short.objection_deadline, short.earliest_publication) == (date(2026, 3, 6),
                                                                     date(2026, 3, 11))


def test_lead_days_parse_into_distinct_days_largest_first():
    assert parse_lead_days("30, 7,1,0,7") == (30, 7, 1, 0)
    assert parse_lead_days("") == (30, 7, 1, 0)
    for bad in ("7,x", "-1", "400", "1.5"):
        with pytest.raises(ValueError):
            parse_lead_days(bad)


def test_the_tightest_reached_lead_time_is_chosen():
    leads = (30, 7, 1, 0)
    assert [tightest_lead(d, leads) for d in (45, 30, 8, 7, 2, 1, 0, -1)] == [
        None, 30, 30, 7, 7, 1, 0, None]


@given(st.sets(st.integers(0, 90), min_size=1, max_size=6), st.integers(0, 200))
def test_stepping_day_by_day_reminds_each_reached_lead_exactly_once(leads, start):
    """What run-clocks does daily: remind when the tightest lead is tighter than the last."""
    leads = tuple(sorted(leads, reverse=True))
    reminded, last = [], None
    for days_left in range(start, -3, -1):
        lead = tightest_lead(days_left, leads)
        if lead is not None and (last is None or lead < last):
            reminded.append(lead)
            last = lead
    expected = [lead for lead in leads if lead <= start]
    if start < max(leads):  # the first run already sits inside a wider lead: it starts there
        wider = min(lead for lead in leads if lead >= start)
        expected = [wider] + [lead for lead in expected if lead < wider]
    assert reminded == expected
    assert len(reminded) == len(set(reminded))


@given(st.sets(st.integers(0, 90), min_size=1, max_size=6))
def test_lead_windows_cover_each_day_once(leads):
    leads = tuple(leads)
    windows = lead_windows(leads)
    for days_left in range(0, max(leads) + 1):
        hits = [lead for lead, low, high in windows if low <= days_left <= high]
        assert hits == [tightest_lead(days_left, leads)]
