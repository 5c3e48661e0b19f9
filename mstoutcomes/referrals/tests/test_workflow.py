"""The referral's state machine: every allowed move, and refusals with a readable message."""

import pytest

from mstoutcomes.referrals.workflow import (
    CLOSED,
    TRANSITIONS,
    InvalidTransition,
    State,
    can_transition,
    check_transition,
)

ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
REFUSED = [(a, b) for a in State for b in State if b not in TRANSITIONS[a]]


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_moves_pass(current, target):
    check_transition(current, target)
    assert can_transition(current, target)


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_every_other_move_is_refused(current, target):
    with pytest.raises(InvalidTransition):
        check_transition(current, target)


def test_refusal_says_what_the_referral_can_become():
    with pytest.raises(InvalidTransition, match=r"draft cannot become accepted\. From here it can"):
        check_transition("draft", "accepted")


def test_closed_referrals_say_they_cannot_change():
    with pytest.raises(InvalidTransition, match="It is closed"):
        check_transition("declined", "accepted")


def test_closed_states_are_the_decisions_and_the_start():
    closed = {State.ALLOCATED, State.DECLINED, State.SIGNPOSTED, State.WITHDRAWN}
    assert closed | {State.USUAL_SERVICES} == CLOSED


def test_a_panel_is_the_only_way_to_acceptance():
    sources = {a for a, b in ALLOWED if b == State.ACCEPTED}
    # A trial family randomised to MST comes back from awaiting the trial to wait for a therapist.
    assert sources == {State.READY_FOR_PANEL, State.WAITING_LIST, State.AWAITING_TRIAL}
