"""The referral's states and the only moves between them (no Django: tested without a database).

A service asks ``check_transition(current, target)`` before it changes a referral's state; a move
not in TRANSITIONS raises InvalidTransition with a message a practitioner can read.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SCREENING = "screening"
    READY_FOR_PANEL = "ready_for_panel"
    ACCEPTED = "accepted"
    WAITING_LIST = "waiting_list"
    ALLOCATED = "allocated"
    DECLINED = "declined"
    SIGNPOSTED = "signposted"
    WITHDRAWN = "withdrawn"
    # At a trial site: accepted by the panel, then randomised to management as usual.
    USUAL_SERVICES = "usual_services"
    # At a trial site: accepted and handed to the trial, waiting for consent, the baseline
    # assessments and randomisation (no therapist can be allocated yet).
    AWAITING_TRIAL = "awaiting_trial"


LABELS: dict[State, str] = {
    State.DRAFT: "Draft",
    State.SUBMITTED: "Submitted",
    State.SCREENING: "Being screened",
    State.READY_FOR_PANEL: "Ready for panel",
    State.ACCEPTED: "Accepted",
    State.WAITING_LIST: "On the waiting list",
    State.ALLOCATED: "Started MST",
    State.DECLINED: "Declined",
    State.SIGNPOSTED: "Signposted elsewhere",
    State.WITHDRAWN: "Withdrawn",
    State.USUAL_SERVICES: "Management as usual (trial)",
    State.AWAITING_TRIAL: "Awaiting consent, baseline and randomisation",
}

S = State
TRANSITIONS: dict[State, frozenset[State]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.SUBMITTED: frozenset({S.SCREENING, S.WITHDRAWN}),
    # Screening may close a referral that plainly does not fit (declined or signposted).
    S.SCREENING: frozenset({S.READY_FOR_PANEL, S.DECLINED, S.SIGNPOSTED, S.WITHDRAWN}),
    S.READY_FOR_PANEL: frozenset(
        {S.ACCEPTED, S.WAITING_LIST, S.DECLINED, S.SIGNPOSTED, S.WITHDRAWN}
    ),
    S.ACCEPTED: frozenset(
        {S.ALLOCATED, S.WAITING_LIST, S.WITHDRAWN, S.USUAL_SERVICES, S.AWAITING_TRIAL}
    ),
    # Randomised to MST: waits for a therapist (accepted); to management as usual: usual
    # services; not eligible for the trial: declined; consent refused or withdrawn: withdrawn.
    S.AWAITING_TRIAL: frozenset({S.ACCEPTED, S.USUAL_SERVICES, S.DECLINED, S.WITHDRAWN}),
    S.WAITING_LIST: frozenset({S.ACCEPTED, S.ALLOCATED, S.DECLINED, S.WITHDRAWN, S.USUAL_SERVICES}),
    S.ALLOCATED: frozenset(),
    S.DECLINED: frozenset(),
    S.SIGNPOSTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.USUAL_SERVICES: frozenset(),
}

# Outcomes a panel may decide.
PANEL_OUTCOMES = (S.ACCEPTED, S.WAITING_LIST, S.DECLINED, S.SIGNPOSTED)
CLOSED = frozenset(state for state, targets in TRANSITIONS.items() if not targets)
# States a referrer may still change.
EDITABLE = frozenset({S.DRAFT})


class InvalidTransition(Exception):
    """A referral was asked to move to a state it cannot reach from where it is."""

    def __init__(self, current: str, target: str) -> None:
        self.current, self.target = State(current), State(target)
        allowed = sorted(LABELS[s].lower() for s in TRANSITIONS[self.current])
        if allowed:
            hint = f" From here it can become: {', '.join(allowed)}."
        else:
            hint = " It is closed, so it cannot change any more."
        super().__init__(
            f"A referral that is {LABELS[self.current].lower()} cannot become "
            f"{LABELS[self.target].lower()}.{hint}"
        )


def check_transition(current: str, target: str) -> None:
    """Raise InvalidTransition unless a referral may move from current to target."""
    if State(target) not in TRANSITIONS[State(current)]:
        raise InvalidTransition(current, target)


def can_transition(current: str, target: str) -> bool:
    return State(target) in TRANSITIONS[State(current)]
