"""Second-factor primitives: code windows, single use by time step, encrypted secrets,
recovery codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from workflow import totp

NOW = datetime(2026, 3, 2, 9, 30, 10, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def code_at(moment: datetime) -> str:
    return pyotp.TOTP(SECRET).at(moment)


@pytest.mark.parametrize("offset,accepted", [
    (timedelta(0), True),
    (timedelta(seconds=-30), True),  # the previous step: clock drift
    (timedelta(seconds=30), True),  # the next step
    (timedelta(seconds=-60), False),
    (timedelta(seconds=60), False),
    (timedelta(minutes=-10), False),
])
def test_codes_are_accepted_within_one_step_of_drift(offset, accepted):
    step = totp.matching_step(SECRET, code_at(NOW + offset), NOW, None)
    assert (step is not None) == accepted
    if accepted:
        assert step == totp.time_step(NOW + offset)


def test_a_step_already_used_or_an_earlier_one_is_refused():
    current = totp.time_step(NOW)
    assert totp.matching_step(SECRET, code_at(NOW), NOW, after=current - 1) == current
    assert totp.matching_step(SECRET, code_at(NOW), NOW, after=current) is None  # replay
    earlier = code_at(NOW - timedelta(seconds=30))
    assert totp.matching_step(SECRET, earlier, NOW, after=current) is None
    later = code_at(NOW + timedelta(seconds=30))
    assert totp.matching_step(SECRET, later, NOW, after=current) == current + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5", None])
def test_malformed_codes_never_match(code):
    assert totp.matching_step(SECRET, code, NOW, None) is None


def test_spaces_inside_a_code_are_ignored():
    code = code_at(NOW)
    assert totp.matching_step(SECRET, f"{code[:3]} {code[3:]}", NOW, None) is not None


def test_secret_box_encrypts_and_needs_the_key():
    box = totp.SecretBox("k" * 20 + "first-secret-key-0123456789")
    token = box.encrypt(SECRET)
    assert SECRET not in token and box.decrypt(token) == SECRET
    assert token != box.encrypt(SECRET)  # a fresh IV each time
    other = totp.SecretBox("k" * 20 + "another-secret-key-987654321")
    assert other.decrypt(token) is None
    rotated = totp.SecretBox("k" * 20 + "another-secret-key-987654321",
                             fallbacks=["k" * 20 + "first-secret-key-0123456789"])
    assert rotated.decrypt(token) == SECRET


def test_recovery_codes_are_distinct_readable_and_hashed_per_user():
    codes = totp.new_recovery_codes()
    assert len(codes) == totp.RECOVERY_CODE_COUNT == len(set(codes))
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4, 4]
        assert set(code.replace("-", "")) <= set(totp.RECOVERY_ALPHABET)
        assert not totp.looks_like_code(code)
    code = codes[0]
    assert totp.recovery_hash(1, code) == totp.recovery_hash(1, code.upper().replace("-", " "))
    assert totp.recovery_hash(1, code) != totp.recovery_hash(2, code)
    assert code not in totp.recovery_hash(1, code)


def test_provisioning_uri_names_the_issuer_and_account():
    uri = totp.provisioning_uri(SECRET, "ana@example.org")
    assert uri.startswith("otpauth://totp/ClusterPact:ana%40example.org?")
    assert f"secret={SECRET}" in uri and "issuer=ClusterPact" in uri
