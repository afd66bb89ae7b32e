"""Second factor in tests: an authenticator app per user (pyotp), and enrolment through the
real services.

The server accepts each TOTP time step once per user, within one step of drift; a test that
logs the same user in several times within 30 seconds gets a fresh step each time, and waits
for the clock only when the drift window is used up.
"""

from __future__ import annotations

import re
import time

import pyotp

from workflow.totp import STEP_SECONDS

SECRET_ON_PAGE = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
RECOVERY_ON_PAGE = re.compile(r"<li><code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code></li>")


class Authenticator:
    """A user's authenticator app."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.replace(" ", "")
        self.last_step: int | None = None

    def code(self) -> str:
        """A code of a time step the server has not seen from this app yet."""
        current = int(time.time()) // STEP_SECONDS
        step = current if self.last_step is None else max(current, self.last_step + 1)
        if step > current + 1:  # both acceptable steps are used: wait for the next one
            time.sleep((step - 1) * STEP_SECONDS - time.time() + 0.05)
        self.last_step = step
        return pyotp.TOTP(self.secret).generate_otp(step)


_apps: dict[str, Authenticator] = {}


def authenticator(email: str) -> Authenticator | None:
    """The app enrolled for `email` in this test run, if any."""
    return _apps.get(email.lower())


def remember(email: str, secret: str) -> Authenticator:
    _apps[email.lower()] = app = Authenticator(secret)
    return app


def needs_enrolment(user, roles=frozenset({"admin", "legal"})) -> bool:
    """Whether logging `user` in leads to the compulsory second-factor set-up."""
    return user.role in roles and not user.totp_enabled


def enrol(session, user, box) -> tuple[Authenticator, list[str]]:
    """Turn on `user`'s second factor through the services: (their app, recovery codes)."""
    from workflow.services import second_factor

    second_factor.begin_enrolment(session, user, box)
    session.refresh(user)
    app = remember(user.email, second_factor.pending_secret(user, box))
    codes = second_factor.confirm_enrolment(session, user, box, app.code())
    session.refresh(user)
    session.commit()  # end the read: later reads see what the app writes meanwhile
    return app, codes
