"""Admin forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional


class CountryRiskForm(FlaskForm):
    country = StringField("Country (ISO 3166-1 alpha-2)",
                          validators=[DataRequired(), Length(min=2, max=2)])
    tier_key = SelectField("Tier")
    source = StringField("Source", validators=[DataRequired(), Length(max=200)])
    year = IntegerField("Year", validators=[DataRequired(), NumberRange(1990, 2100)])
    note = StringField("Note", validators=[Optional(), Length(max=2000)])
    submit = SubmitField("Save entry")


class RemoveRiskForm(FlaskForm):
    country = HiddenField(validators=[DataRequired()])
    tier_key = HiddenField(validators=[DataRequired()])
    submit = SubmitField("Remove")


class RuleForm(FlaskForm):
    severity = SelectField("Severity", choices=[SelectChoice("block", "Blocks"),
                                                SelectChoice("warn", "Warns")])
    active = BooleanField("Active")
    submit = SubmitField("Save rule")


class UserForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=254)])
    display_name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role")
    organisation_id = SelectField("Organisation", coerce=int)
    password = StringField("Initial password (at least 12 characters; the user should change "
                           "it)", validators=[DataRequired(), Length(min=12, max=256)])
    submit = SubmitField("Create user")


class UserRoleForm(FlaskForm):
    role = SelectField("Role")
    organisation_id = SelectField("Organisation", coerce=int)
    submit = SubmitField("Change role")


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[DataRequired(), AnyOf(["0", "1"])])  # 1: active
    submit = SubmitField("Save")


class ResetSecondFactorForm(FlaskForm):
    submit = SubmitField("Reset two-factor authentication")


class OrganisationForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    country = StringField("Country (ISO 3166-1 alpha-2)",
                          validators=[DataRequired(), Length(min=2, max=2)])
    city = StringField("City", validators=[Optional(), Length(max=120)])
    kind = SelectField("Kind")
    submit = SubmitField("Create organisation")
