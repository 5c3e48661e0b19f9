"""The analysis data contract: loading, clear errors and the canonical hash."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from mstoutcomes.analysis.contract import ContractError, load_dataset, parse_plan

TRIAL = Path(__file__).parent / "results" / "trial"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(TRIAL, target)
    return target


def _problems(directory: Path) -> list[str]:
    with pytest.raises(ContractError) as caught:
        load_dataset(directory)
    return [str(p) for p in caught.value.problems]


def test_reference_dataset_loads_with_parsed_dates_and_numbers():
    dataset = load_dataset(TRIAL)
    assert len(dataset.participants) == 200
    assert pd.api.types.is_datetime64_any_dtype(dataset.participants["randomised_on"])
    assert dataset.measurements["value"].dtype == float
    assert dataset.plan.arms == ("MAU", "MST")
    assert dataset.plan.missing.method == "multiple_imputation"


def test_bad_value_is_reported_with_file_line_and_column(copy: Path):
    path = copy / "measurements.csv"
    lines = path.read_text().splitlines()
    parts = lines[4].split(",")
    parts[3] = "lots"
    lines[4] = ",".join(parts)
    path.write_text("\n".join(lines) + "\n")
    assert _problems(copy) == ["measurements.csv, line 5, column 'value': 'lots' is not a number."]


def test_unknown_arm_bad_date_and_unknown_participant_are_all_reported_at_once(copy: Path):
    people = pd.read_csv(copy / "participants.csv", dtype=str, keep_default_na=False)
    people.loc[0, "arm"] = "Placebo"
    people.loc[2, "randomised_on"] = "03/01/2022"
    people.to_csv(copy / "participants.csv", index=False)
    events = pd.read_csv(copy / "events.csv", dtype=str)
    events.loc[1, "participant_id"] = "NOBODY"
    events.to_csv(copy / "events.csv", index=False)
    problems = _problems(copy)
    assert (
        "participants.csv, line 2, column 'arm': "
        "arm 'Placebo' is not one of the plan's arms (MAU, MST)." in problems
    )
    assert (
        "participants.csv, line 4, column 'randomised_on': "
        "'03/01/2022' is not an ISO date (YYYY-MM-DD)." in problems
    )
    assert (
        "events.csv, line 3, column 'participant_id': "
        "participant 'NOBODY' is not in participants.csv." in problems
    )


def test_missing_column_and_missing_file_are_named(copy: Path):
    people = pd.read_csv(copy / "participants.csv", dtype=str).drop(columns=["site"])
    people.to_csv(copy / "participants.csv", index=False)
    (copy / "events.csv").unlink()
    problems = _problems(copy)
    assert (
        "participants.csv, line 1, column 'site': required column is missing from the header."
        in problems
    )
    assert "events.csv: is missing from the dataset directory." in problems


def test_plan_errors_name_the_outcome_and_the_key():
    with pytest.raises(ContractError) as caught:
        parse_plan(
            'arms = ["A", "B"]\n[[outcome]]\nname = "x"\ntype = "continuous"\ntimepoint = "6m"\n'
        )
    assert [str(p) for p in caught.value.problems] == [
        "plan.toml: [[outcome]] 'x': a continuous outcome needs baseline."
    ]
    with pytest.raises(ContractError, match="type must be one of"):
        parse_plan('arms = ["A"]\n[[outcome]]\nname = "x"\ntype = "ordinal"\n')


def test_plan_naming_an_outcome_without_measurements_is_refused(copy: Path):
    plan = (copy / "plan.toml").read_text().replace('timepoint = "18m"', 'timepoint = "24m"')
    (copy / "plan.toml").write_text(plan)
    assert _problems(copy) == [
        "measurements.csv: outcome 'out_of_home_18m' needs measurements of 'out_of_home' at "
        "'24m', and there are none."
    ]


def test_hash_ignores_row_order_but_not_values(copy: Path):
    original = load_dataset(TRIAL).sha256()
    measurements = pd.read_csv(copy / "measurements.csv", dtype=str, keep_default_na=False)
    measurements.iloc[::-1].to_csv(copy / "measurements.csv", index=False)
    assert load_dataset(copy).sha256() == original
    measurements.loc[0, "value"] = "39"
    measurements.to_csv(copy / "measurements.csv", index=False)
    assert load_dataset(copy).sha256() != original
