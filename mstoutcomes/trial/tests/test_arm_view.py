"""How each role may see a trial's arms: named, coded A/B or pooled, and the lock."""

import pytest
from django.utils import timezone

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.trial.blinding import ArmView, arm_codes, arm_label_for, arm_view_for

pytestmark = pytest.mark.django_db

EXPECTED = {
    Role.TRIAL_MANAGER: ArmView.NAMED,
    Role.UNBLINDED_STATISTICIAN: ArmView.NAMED,
    Role.DMC_MEMBER: ArmView.NAMED,
    Role.PROGRAMME_MANAGER: ArmView.NAMED,  # sees each family's treatment anyway
    Role.STATISTICIAN: ArmView.CODED,
    Role.STEERING_GROUP: ArmView.POOLED,
    Role.RESEARCH_WORKER: ArmView.POOLED,
}


@pytest.mark.parametrize(("role", "view"), list(EXPECTED.items()))
def test_each_role_sees_the_arms_as_the_blinding_plan_says(trial, site_a, role, view):
    assert arm_view_for(member(role, site_a), trial) is view


def test_the_lock_shows_the_steering_group_and_the_statistician_the_arms(trial, site_a):
    steering, statistician = member(Role.STEERING_GROUP, site_a), member(Role.STATISTICIAN, site_a)
    trial.locked_at = timezone.now()
    trial.save(update_fields=["locked_at"])
    assert arm_view_for(steering, trial) is ArmView.NAMED
    assert arm_view_for(statistician, trial) is ArmView.NAMED
    assert arm_view_for(member(Role.RESEARCH_WORKER, site_a), trial) is ArmView.POOLED


def test_another_sites_trial_manager_sees_it_pooled(trial, site_b):
    assert arm_view_for(member(Role.TRIAL_MANAGER, site_b), trial) is ArmView.POOLED


def test_the_coding_is_stable_per_trial_and_uses_each_letter_once(trial, site_a):
    codes = arm_codes(trial)
    assert sorted(codes) == ["MAU", "MST"] and sorted(codes.values()) == ["A", "B"]
    assert arm_codes(trial) == codes


def test_the_coding_depends_on_the_key_not_on_the_arm_order(trial, settings):
    seen = set()
    for n in range(12):
        settings.TRIAL_ALLOCATION_KEY = f"another-key-{n}"
        seen.add(arm_codes(trial)["MST"])
    assert seen == {"A", "B"}  # a blind user cannot assume MST is always A


def test_labels_follow_the_view(trial, site_a):
    assert arm_label_for(member(Role.TRIAL_MANAGER, site_a), trial, "MAU") == "Management as usual"
    coded = arm_label_for(member(Role.STATISTICIAN, site_a), trial, "MAU")
    assert coded in {"Arm A", "Arm B"}
    assert arm_label_for(member(Role.STEERING_GROUP, site_a), trial, "MAU") == "Both arms"
