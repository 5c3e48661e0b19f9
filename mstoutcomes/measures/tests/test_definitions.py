"""Instrument files are validated on load, with errors naming the file and the field."""

import copy
from pathlib import Path

import pytest
import yaml

from mstoutcomes.measures.definitions import (
    DefinitionError,
    load_directory,
    load_instrument,
    parse_instrument,
)

HERE = Path(__file__).resolve().parents[1]
GBO = yaml.safe_load((HERE / "instruments" / "gbo.yaml").read_text())


def broken(change):
    data = copy.deepcopy(GBO)
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("code"), "mine.yaml: code: is required"),
        (lambda d: d.update(colour="red"), "mine.yaml: colour: is not a known field"),
        (lambda d: d.update(respondents=["cat"]), "respondents: names unknown respondent 'cat'"),
        (lambda d: d["items"][0].update(options="nope"), "items[0].options: names no response"),
        (lambda d: d["scales"][0].update(items=["goal_9"]), "scales[0].items: names unknown item"),
        (lambda d: d["scales"][0].update(method="median"), "scales[0].method: must be one of"),
        (lambda d: d["scales"][0].update(range=[10, 0]), "scales[0].range: minimum must not"),
        (lambda d: d["scales"][3].update(min_answered=4), "scales[3].min_answered: must be"),
        (lambda d: d["licence"].pop("wording_on_screen"), "licence.wording_on_screen: is required"),
        (lambda d: d["items"].append(d["items"][0]), "items[3].id: repeats item 'goal_1'"),
        (lambda d: d["scales"][0].update(sd=-1), "scales[0].sd: must be above 0"),
    ],
)
def test_bad_files_are_refused_naming_file_and_field(change, message):
    with pytest.raises(DefinitionError) as error:
        parse_instrument(broken(change), source="mine.yaml")
    assert message in str(error.value)


def test_wording_is_refused_when_the_licence_forbids_it():
    def forbid(d):
        d["licence"]["wording_on_screen"] = False

    with pytest.raises(DefinitionError, match=r"items\[0\].text: wording is given"):
        parse_instrument(broken(forbid), source="mine.yaml")


def test_bands_must_cover_the_range_without_gaps():
    def gap(d):
        d["bands"] = [
            {
                "code": "b",
                "label": "B",
                "version": "1",
                "source": "s",
                "tag": "t",
                "scales": {
                    "goal_1": [
                        {"label": "low", "min": 0, "max": 3},
                        {"label": "high", "min": 5, "max": 10},
                    ]
                },
            }
        ]

    with pytest.raises(DefinitionError, match="overlap or leave a gap"):
        parse_instrument(broken(gap), source="mine.yaml")


def test_composite_scales_must_name_earlier_scales():
    def forward(d):
        d["scales"].insert(
            0,
            {
                "code": "both",
                "label": "Both",
                "method": "sum_of_scales",
                "scales": ["goal_1"],
                "range": [0, 20],
            },
        )

    with pytest.raises(DefinitionError, match="which is not an earlier scale"):
        parse_instrument(broken(forward), source="mine.yaml")


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("code: [unclosed")
    with pytest.raises(DefinitionError, match=r"bad\.yaml: is not valid YAML"):
        load_instrument(path)


def test_a_site_adds_its_own_instrument_without_code(tmp_path):
    (tmp_path / "mood.yaml").write_text(
        """
code: mood
name: Mood thermometer
version: "1"
scoring_version: "mood-1"
respondents: [young_person]
licence: {holder: Our site, terms: Free, wording_on_screen: true}
items:
  - {id: today, text: "How is your mood today?", min: 0, max: 10}
scales:
  - {code: mood, label: Mood, method: sum, items: [today], range: [0, 10]}
"""
    )
    found = load_directory(HERE / "instruments", tmp_path)
    assert found["mood"].item("today").text == "How is your mood today?"
    assert "sdq-p" in found


def test_a_site_cannot_silently_replace_a_shipped_instrument(tmp_path):
    (tmp_path / "gbo.yaml").write_text(yaml.safe_dump(GBO))
    with pytest.raises(DefinitionError, match=r"already defined in gbo\.yaml"):
        load_directory(HERE / "instruments", tmp_path)


def test_a_licensed_wording_pack_adds_wording_at_deploy_time(tmp_path):
    (tmp_path / "sdq-parent.wording.yaml").write_text(
        "instrument: sdq-p\nlicence_reference: Youthinmind agreement 2026-001\n"
        "items:\n  '1': Licensed wording of item one\n"
    )
    found = load_directory(HERE / "instruments", tmp_path)
    assert found["sdq-p"].item("1").text == "Licensed wording of item one"
    assert found["sdq-p"].licence.wording_on_screen


def test_a_wording_pack_for_an_unknown_item_is_refused(tmp_path):
    (tmp_path / "x.wording.yaml").write_text(
        "instrument: sdq-p\nlicence_reference: r\nitems:\n  '99': nope\n"
    )
    with pytest.raises(DefinitionError, match=r"items\.99: is not an item of sdq-p"):
        load_directory(HERE / "instruments", tmp_path)
