import datetime as dt

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import AgencyFactory, member
from mstoutcomes.referrals import services

ELIGIBLE_FACTS = {
    "behaviours": ["aggression_home", "aggression_school", "running_away"],
    "risks": ["care"],
    "statuses": [],
    "offences_12m": 1,
    "offences_18m": 2,
}


def draft_referral(*, by, site, agency, **fields):
    """Return a complete draft referral (not yet submitted) written by `by`."""
    referral = services.referral_start(by=by, site=site, agency=agency)
    data = {
        "given_name": "Riley",
        "family_name": "Testperson",
        "date_of_birth": dt.date.today() - dt.timedelta(days=14 * 365 + 40),
        "sex": "male",
        "postcode_district": "M33",
        "carers": [{"given_name": "Donna", "family_name": "Testperson", "relationship": "mother"}],
        "consent_referral": True,
        "consent_share": True,
        "assent": True,
        **ELIGIBLE_FACTS,
        **fields,
    }
    return services.referral_draft_save(by=by, referral=referral, fields=data)


def referrer_at(site, agency=None, **kwargs):
    agency = agency or AgencyFactory()
    return member(Role.REFERRER, site, agency=agency, **kwargs), agency


def submitted_referral(*, site, agency=None, **fields):
    referrer, agency = referrer_at(site, agency)
    referral = draft_referral(by=referrer, site=site, agency=agency, **fields)
    return services.referral_submit(by=referrer, referral=referral), referrer
