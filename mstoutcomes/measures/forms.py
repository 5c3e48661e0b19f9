"""Entry forms generated from instrument definitions (GOV.UK radios, fast from paper)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Button, Field, Fieldset, Layout, Size
from django import forms
from django.core.exceptions import ValidationError

from mstoutcomes.core.forms import gds_date
from mstoutcomes.measures.definitions import Instrument, Item
from mstoutcomes.measures.models import AssessmentStatus, Mode
from mstoutcomes.measures.windows import DueTask

WORK_OUT = ""


def _item_label(item: Item, instrument: Instrument) -> str:
    if item.text and instrument.licence.wording_on_screen:
        return f"{item.number}. {item.text}" if item.number != item.id else item.text
    label = item.number if not item.number.isdigit() else f"Item {item.number}"
    return f"{label}" + (f" ({item.name})" if item.name and item.name != item.id else "")


class _GdsForm(forms.Form):
    submit_label = "Save"

    def _helper(self, *parts: Any) -> None:
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.label_size = Size.SMALL
        self.helper.legend_size = Size.SMALL
        self.helper.layout = Layout(*parts, Button("submit", self.submit_label))


class AssessmentForm(_GdsForm):
    """Who answered, when and how; then every item (or every enterable scale score)."""

    submit_label = "Save and score"

    def __init__(
        self,
        *args: Any,
        instrument: Instrument,
        respondent: str,
        tasks: list[DueTask],
        by_scores: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.instrument, self.respondent, self.by_scores = instrument, respondent, by_scores
        self.fields["completed_on"] = gds_date("Date completed")
        self.fields["mode"] = forms.ChoiceField(
            label="How was it completed?",
            choices=[c for c in Mode.choices if c[0] != Mode.IMPORTED],
            widget=forms.RadioSelect,
            error_messages={"required": "Select how it was completed"},
        )
        self.fields["respondent_name"] = forms.CharField(
            label="Who answered (optional)",
            required=False,
            max_length=100,
            help_text="For example, mother or form tutor.",
        )
        choices = [(WORK_OUT, "Work it out from the date completed (it must be in a window)")]
        choices += [
            (t.timepoint, f"{t.label} (open {t.opens:%-d %B %Y} to {t.closes:%-d %B %Y})")
            for t in tasks
            if t.instrument == instrument.code and t.respondent == respondent
        ]
        self.fields["timepoint"] = forms.ChoiceField(
            label="Timepoint", choices=choices, required=False
        )
        self.fields["out_of_window_reason"] = forms.CharField(
            label="If it was collected outside the timepoint's window, why (optional)",
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text="A trial timepoint entered outside its window is saved only with a reason, "
            "and is marked out of window.",
        )
        layout: list[Any] = [
            Field("completed_on"),
            Field.radios("mode", inline=True, small=True),
            Field.text("respondent_name", field_width=20),
            Field("timepoint"),
            Field.textarea("out_of_window_reason"),
        ]
        self.answer_fields: list[str] = []
        if by_scores:
            layout.append(Fieldset(*self._scale_fields(), legend="Scores from the scored form"))
        else:
            layout.append(Fieldset(*self._item_fields(), legend="Answers from the form"))
        self._helper(*layout)

    def _item_fields(self) -> list[Any]:
        parts = []
        for item in self.instrument.items_for(self.respondent):
            name = f"item_{item.id}"
            label = _item_label(item, self.instrument)
            if item.options:
                self.fields[name] = forms.TypedChoiceField(
                    label=label,
                    choices=[(o.value, o.label) for o in item.options],
                    coerce=int,
                    required=False,
                    widget=forms.RadioSelect,
                    error_messages={"invalid_choice": f"Select one of the answers for {label}"},
                )
                parts.append(Field.radios(name, inline=True, small=True))
            else:
                self.fields[name] = forms.IntegerField(
                    label=label,
                    required=False,
                    min_value=int(item.low),
                    max_value=int(item.high),
                    error_messages={
                        "min_value": f"{label} must be {item.low:g} or more",
                        "max_value": f"{label} must be {item.high:g} or less",
                        "invalid": f"{label} must be a whole number",
                    },
                )
                parts.append(Field.text(name, field_width=4))
            self.answer_fields.append(name)
        return parts

    def _scale_fields(self) -> list[Any]:
        parts = []
        for scale in self.instrument.scales_for(self.respondent):
            if not scale.enterable:
                continue
            name = f"scale_{scale.code}"
            low, high = Decimal(str(scale.minimum)), Decimal(str(scale.maximum))
            self.fields[name] = forms.DecimalField(
                label=f"{scale.label} ({scale.minimum:g} to {scale.maximum:g})",
                required=False,
                min_value=low,
                max_value=high,
                decimal_places=scale.decimals,
                error_messages={
                    "min_value": f"{scale.label} must be {scale.minimum:g} or more",
                    "max_value": f"{scale.label} must be {scale.maximum:g} or less",
                    "invalid": f"{scale.label} must be a number",
                    "max_decimal_places": f"{scale.label} has at most {scale.decimals} decimals",
                },
            )
            parts.append(Field.text(name, field_width=4))
            self.answer_fields.append(name)
        return parts

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and all(data.get(f) in (None, "") for f in self.answer_fields):
            raise ValidationError("Enter at least one answer or score.")
        return data

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        answers = {f: data.get(f) for f in self.answer_fields if data.get(f) not in (None, "")}
        arguments: dict[str, Any] = {
            "completed_on": data["completed_on"],
            "mode": data["mode"],
            "respondent_name": data.get("respondent_name", ""),
            "timepoint": data.get("timepoint", ""),
            "out_of_window_reason": data.get("out_of_window_reason", ""),
        }
        if self.by_scores:
            arguments["entered"] = {k.removeprefix("scale_"): v for k, v in answers.items()}
        else:
            arguments["responses"] = {k.removeprefix("item_"): v for k, v in answers.items()}
        return arguments

    def apply_service_errors(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                for item in errors:
                    self.add_error(field if field in self.fields else None, item)
        else:
            for message in error.messages:
                self.add_error(None, message)


class NotDoneForm(_GdsForm):
    submit_label = "Save"
    status = forms.ChoiceField(
        label="What happened?",
        choices=[
            (AssessmentStatus.MISSED, "Missed"),
            (AssessmentStatus.REFUSED, "Refused"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select missed or refused"},
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed when it was missed, for example family moved or could not be reached.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._helper(Field.radios("status"), Field.textarea("reason"))

    def apply_service_errors(self, error: ValidationError) -> None:
        AssessmentForm.apply_service_errors(self, error)  # type: ignore[arg-type]


class RespondentForm(_GdsForm):
    """The items alone, with their wording, for a respondent completing a link online."""

    submit_label = "Send my answers"

    def __init__(self, *args: Any, instrument: Instrument, respondent: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument, self.respondent, self.by_scores = instrument, respondent, False
        self.answer_fields = []
        self._helper(*AssessmentForm._item_fields(self))  # type: ignore[arg-type]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and all(data.get(f) in (None, "") for f in self.answer_fields):
            raise ValidationError("Answer at least one question.")
        return data

    def responses(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            f.removeprefix("item_"): data[f]
            for f in self.answer_fields
            if data.get(f) not in (None, "")
        }
