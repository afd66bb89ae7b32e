"""Review, waiver and comment forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..partnerships.forms import VersionedForm

VISIBILITY = [SelectChoice("internal", "Internal (staff only)"),
              SelectChoice("partner", "Visible to partners")]


class ReviewForm(VersionedForm):
    decision = RadioField("Decision", choices=[
        SelectChoice("approve", "Approve"), SelectChoice("request_changes", "Request changes")],
        validators=[DataRequired()])
    comment = TextAreaField("Comment (required when requesting changes)",
                            validators=[Optional(), Length(max=5000)])
    visibility = SelectField("Who sees the comment", choices=VISIBILITY)
    submit = SubmitField("Record decision")


class WaiverForm(VersionedForm):
    comment = TextAreaField("Why this safeguard can be waived for this partnership",
                            validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField("Record waiver")


class CommentForm(FlaskForm):
    body = TextAreaField("Comment", validators=[DataRequired(), Length(max=5000)])
    visibility = SelectField("Who sees it", choices=VISIBILITY)
    submit = SubmitField("Post comment")
