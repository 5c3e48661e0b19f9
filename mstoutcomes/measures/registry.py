"""The instruments and schedules this deployment uses: shipped files plus a site's own folder."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from django.conf import settings

from mstoutcomes.measures.definitions import DefinitionError, Instrument, load_directory
from mstoutcomes.measures.windows import Schedule, load_schedules

HERE = Path(__file__).resolve().parent


def _extra(setting: str) -> list[Path]:
    # A Django setting if the deployment defines one, else the environment variable.
    value = getattr(settings, setting, "") or os.environ.get(setting, "")
    return [Path(value)] if value else []


@cache
def instruments() -> dict[str, Instrument]:
    """Return every instrument by code (shipped, then MEASURES_INSTRUMENTS_DIR's own)."""
    return load_directory(HERE / "instruments", *_extra("MEASURES_INSTRUMENTS_DIR"))


def instrument(code: str) -> Instrument:
    """Return one instrument, or raise KeyError naming the unknown code."""
    found = instruments().get(code)
    if found is None:
        raise KeyError(f"No instrument {code!r}; known: {', '.join(sorted(instruments()))}")
    return found


@cache
def schedules() -> dict[str, Schedule]:
    """Return every schedule by code, checked against the instruments it names."""
    found = load_schedules(HERE / "schedules", *_extra("MEASURES_SCHEDULES_DIR"))
    known = instruments()
    for schedule in found.values():
        for timepoint in schedule.timepoints:
            for task in timepoint.tasks:
                if task.instrument not in known:
                    raise DefinitionError(
                        f"{schedule.source_file}: timepoints.{timepoint.code}: names unknown "
                        f"instrument {task.instrument!r}"
                    )
                if task.respondent not in known[task.instrument].respondents:
                    raise DefinitionError(
                        f"{schedule.source_file}: timepoints.{timepoint.code}: "
                        f"{task.instrument} has no {task.respondent} version"
                    )
    return found


def clear() -> None:
    """Forget loaded definitions (tests that change the folders)."""
    instruments.cache_clear()
    schedules.cache_clear()
