"""Login, second-factor and account forms."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()
    submit = SubmitField("Log in")


class LogoutForm(FlaskForm):
    submit = SubmitField("Log out")


def _code_field(label: str, *, recovery: bool) -> StringField:
    keyboard = {} if recovery else {"inputmode": "numeric", "pattern": "[0-9 ]*"}
    return StringField(label, validators=[DataRequired(), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "spellcheck": "false",
                                  "autocapitalize": "off", **keyboard})


class LoginCodeForm(FlaskForm):
    code = _code_field("Code", recovery=True)
    submit = SubmitField("Verify")


class StartTwoFactorForm(FlaskForm):
    submit = SubmitField("Set up two-factor authentication")


class ConfirmTwoFactorForm(FlaskForm):
    code = _code_field("Code from your app", recovery=False)
    submit = SubmitField("Turn on two-factor authentication")


class RecoveryCodesForm(FlaskForm):
    code = _code_field("Current code from your app", recovery=False)
    submit = SubmitField("Make new recovery codes")


class DisableTwoFactorForm(FlaskForm):
    code = _code_field("Code from your app, or a recovery code", recovery=True)
    submit = SubmitField("Turn off two-factor authentication")


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        "New password (at least 12 characters)", validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", "The two new passwords differ.")],
        render_kw={"autocomplete": "new-password"})
    submit = SubmitField("Change password")
