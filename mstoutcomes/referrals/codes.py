"""The coded answers a referral records, in the service's own words (no Django).

Codes are stored; labels are shown. Add a code here and in the site configuration that weighs it.
"""

from __future__ import annotations

BEHAVIOURS: dict[str, str] = {
    "aggression_home": "Physical aggression at home",
    "aggression_school": "Physical aggression at school",
    "aggression_community": "Physical aggression in the community",
    "verbal_aggression": "Verbal aggression or threats",
    "offending": "Offending",
    "substance_misuse": "Substance misuse alongside these behaviours",
    "school_non_attendance": "Not attending school",
    "running_away": "Running away or going missing",
    "other": "Other anti-social behaviour",
}

RISKS: dict[str, str] = {
    "custody": "Custody",
    "care": "Going into care or another out-of-home placement",
    "permanent_exclusion": "Permanent exclusion from school",
}

STATUSES: dict[str, str] = {
    "child_in_need": "Child in need",
    "child_protection": "Child protection plan",
    "looked_after": "Looked after",
    "yos_order": "Youth offending service order",
    "excluded_or_reduced_timetable": "Excluded from school or on a reduced timetable",
}

# Exclusion facts the referrer is asked about; a site's configuration decides what each one means.
EXCLUSIONS: dict[str, str] = {
    "psychosis": "Psychosis",
    "learning_disability": "Generalised learning disability",
    "suicide_risk": "High risk of suicide",
    "sexually_harmful_only": "Sexually harmful behaviour without other anti-social behaviour",
    "no_primary_carer": "No primary carer, or living independently",
}

# Counts of recent history, by field name.
HISTORY_COUNTS: dict[str, str] = {
    "offences_12m": "Offences and warnings in the last 12 months",
    "offences_18m": "Offences and warnings in the last 18 months",
    "fixed_term_exclusions": "Suspensions (fixed-term exclusions) in the last 12 months",
    "previous_placements": "Previous placements away from home",
}

BANDS: dict[str, str] = {
    "lower": "Lower complexity",
    "medium": "Medium complexity",
    "higher": "Higher complexity",
}
