"""Forms for emergency unblinding and the assessor's guess of the arm."""

from __future__ import annotations

from typing import Any

from django import forms

from mstoutcomes.core.forms import gds_date
from mstoutcomes.trial.forms import _GdsForm
from mstoutcomes.trial.models import DONT_KNOW, GuessConfidence


class EmergencyUnblindForm(_GdsForm):
    unblinded_person = forms.ChoiceField(
        label="Who needs to know the allocation?",
        help_text="Their later assessments of this participant will be flagged.",
    )
    reason = forms.CharField(
        label="Why must the allocation be revealed?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why the allocation must be revealed"},
    )

    def __init__(self, *args: Any, people: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unblinded_person"]
        field.choices = [("", "Choose a person"), *people]  # type: ignore[attr-defined]
        field.error_messages["required"] = "Choose who needs to know the allocation"


class BlindingGuessForm(_GdsForm):
    timepoint = forms.ChoiceField(label="Follow-up")
    guess = forms.ChoiceField(
        label="Which arm do you think this young person is in?", widget=forms.RadioSelect
    )
    confidence = forms.ChoiceField(
        label="How sure are you? (optional)",
        required=False,
        widget=forms.RadioSelect,
        choices=GuessConfidence.choices,
    )
    recorded_on = gds_date("Date of the guess")

    def __init__(
        self,
        *args: Any,
        timepoints: list[tuple[str, str]],
        arms: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timepoint"].choices = timepoints  # type: ignore[attr-defined]
        self.fields["timepoint"].error_messages["required"] = "Choose the follow-up"
        self.fields["guess"].choices = [*arms, (DONT_KNOW, "Don't know")]  # type: ignore[attr-defined]
        self.fields["guess"].error_messages["required"] = "Choose an arm, or don't know"
