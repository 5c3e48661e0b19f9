"""Panels that apps above the trial add to the trial's dashboard, without the trial importing them.

An app on a higher floor (the data-quality queries) subscribes in its ``AppConfig.ready()``:
``subscribe_dashboard_panel(name=, render=)`` where ``render(request, trial)`` returns the HTML
to show, or "" to show nothing. The recruitment page renders every panel in subscription order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from django.http import HttpRequest

    from mstoutcomes.trial.models import Trial

PanelRenderer = Callable[["HttpRequest", "Trial"], str]

_panels: dict[str, PanelRenderer] = {}


def subscribe_dashboard_panel(*, name: str, render: PanelRenderer) -> None:
    """Register a panel for the trial dashboard; replaces one of the same name."""
    _panels[name] = render


def dashboard_panels(request: HttpRequest, trial: Trial) -> list[SafeString]:
    """Return the subscribed panels' HTML for this user and trial, empty ones left out."""
    rendered = (render(request, trial) for render in _panels.values())
    return [SafeString(html) for html in rendered if html]
