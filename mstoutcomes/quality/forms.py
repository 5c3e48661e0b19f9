"""Forms for filtering, raising, answering, closing and reopening data-quality queries."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.helper import FormHelper
from django import forms

from mstoutcomes.accounts.models import Site
from mstoutcomes.quality.models import QueryState


class _GdsForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The error summary reads the helper's settings; the templates write the <form> tags.
        self.helper = FormHelper()
        self.helper.form_tag = False
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.Select) and not isinstance(widget, forms.RadioSelect):
                widget.attrs.setdefault("class", "govuk-select")
            elif isinstance(widget, forms.Textarea):
                widget.attrs.setdefault("class", "govuk-textarea")
            elif isinstance(widget, forms.TextInput):
                widget.attrs.setdefault("class", "govuk-input")


class QueryFilterForm(_GdsForm):
    state = forms.ChoiceField(
        label="State", required=False, choices=[("", "All"), *QueryState.choices]
    )
    rule = forms.ChoiceField(label="Rule", required=False)
    site = forms.TypedChoiceField(label="Site", required=False, coerce=int, empty_value=None)

    def __init__(
        self, *args: Any, sites: list[Site], rules: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        rule = self.fields["rule"]
        assert isinstance(rule, forms.ChoiceField)
        rule.choices = [("", "All"), *rules]
        site = self.fields["site"]
        assert isinstance(site, forms.ChoiceField)
        site.choices = [("", "All sites"), *((s.pk, s.name) for s in sites)]


class QueryOpenForm(_GdsForm):
    site = forms.TypedChoiceField(
        label="Site", coerce=int, error_messages={"required": "Select the site"}
    )
    study_id = forms.CharField(
        label="Young person's study ID (optional)",
        required=False,
        max_length=20,
        help_text="Leave empty if the query is not about one young person.",
    )
    assigned_role = forms.ChoiceField(
        label="Who should answer it",
        error_messages={"required": "Select who should answer the query"},
    )
    message = forms.CharField(
        label="What needs checking",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter what needs checking"},
    )
    reveals_arm = forms.BooleanField(
        label="It is about treatment: hide it from staff blinded to allocation",
        required=False,
    )

    def __init__(
        self, *args: Any, sites: list[Site], roles: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        site = self.fields["site"]
        assert isinstance(site, forms.ChoiceField)
        site.choices = [("", "Choose a site"), *((s.pk, s.name) for s in sites)]
        role = self.fields["assigned_role"]
        assert isinstance(role, forms.ChoiceField)
        role.choices = [("", "Choose a role"), *roles]


class AnswerForm(_GdsForm):
    answer = forms.CharField(
        label="Your answer",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you checked, and what you corrected or why the data are right.",
        error_messages={"required": "Enter your answer"},
    )


class CloseForm(_GdsForm):
    note = forms.CharField(
        label="Closing note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed when closing a query that has not been answered.",
    )


class ReopenForm(_GdsForm):
    reason = forms.CharField(
        label="Why reopen it",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the query is being reopened"},
    )
