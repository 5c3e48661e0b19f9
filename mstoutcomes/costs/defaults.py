"""The shipped unit costs and price index, from the domain research (§5), each with its source.

Pure data, no Django. Tags follow the domain file: V verified against the source, R recalled and
not re-verified, U uncertain. Items the research found no national figure for are shipped at 0
with tag U and ``needs_local_value``: the report lists them, and a site enters its own figure.
Ranges (low, high) drive the sensitivity analysis; where the domain file gives other published
figures they set the range, otherwise it is ±25% (V) or ±50% (R, U).
"""

from __future__ import annotations

from dataclasses import dataclass

from mstoutcomes.costs.costing import BudgetHolder, Evidence, Unit, UnitCost, ValueType

B, E, U, T = BudgetHolder, Evidence, Unit, ValueType

NAO_CARE = (
    "NAO, Managing children's residential care (press release)",
    "https://www.nao.org.uk/press-releases/government-needs-better-oversight-to-tackle-market-"
    "failures-in-childrens-residential-care",
)
CC_2019 = (
    "Children's Commissioner, Who are they? Where are they? (May 2019)",
    "https://www.equallyours.org.uk/childrens-commissioner-for-england-report-who-are-they-where-"
    "are-they/",
)
PSSRU_2017 = (
    "PSSRU Unit Costs of Health and Social Care 2017 (children's services)",
    "https://www.pssru.ac.uk/blog/whats-new-the-unit-costs-publication-and-childrens-services/",
)
HOME_OFFICE = (
    "Home Office, Police costs methodology (police response cost per crime)",
    "https://www.gov.uk/government/publications/police-activity-survey/police-costs-methodology",
)
PSSRU_SW = (
    "PSSRU via New Economy Unit Cost Database (children's social worker)",
    "http://www.globalvaluexchange.org/valuations/584580a11c584a1f40e4382b",
)
PSSRU_CMHT = (
    "PSSRU Unit Costs 2014 p.218, adult community mental health team (proxy)",
    "http://www.globalvaluexchange.org/valuations/584580921c584a1f40e437c3",
)
PSSRU_CURRENT = (
    "No verified figure: take it from the PSSRU Unit Costs 2023/2024 manual",
    "https://www.pssru.ac.uk/unitcostsreport/",
)
NPCC = (
    "No verified figure: NPCC National Policing Guidelines on Charging, Appendix 3",
    "https://www.surrey-pcc.gov.uk/decisions/56-2023-charging-for-police-services/",
)
PSSRU_CJ = (
    "No verified figure: PSSRU Unit Costs in Criminal Justice (2010)",
    "https://www.pssru.ac.uk/project-pages/unit-costs-in-criminal-justice/",
)
NONE_FOUND = ("No national figure found: enter your local figure", "")
IPPR = (
    "IPPR, Making the Difference (Gill 2017): lifetime cost per excluded pupil — contested",
    "https://www.tes.com/news/excluding-pupil-costs-taxpayer-ps370k",
)
THURROCK = (
    "Thurrock Council FOI response, 3 Jul 2023 (one local authority, illustrative)",
    "https://www.thurrock.gov.uk/foi-responses/looked-after-children-6",
)
CARY = ("Cary et al. 2013, London MST RCT (derived: £5,687 − £3,402)", "")


def _cost(
    code: str,
    label: str,
    value: float,
    unit: Unit,
    price_year: str,
    holder: BudgetHolder,
    source: tuple[str, str],
    *,
    tag: Evidence = E.VERIFIED,
    kind: ValueType = T.CASHABLE,
    low: float | None = None,
    high: float | None = None,
) -> UnitCost:
    spread = 0.25 if tag == E.VERIFIED else 0.5
    return UnitCost(
        code=code,
        label=label,
        value=value,
        unit=unit,
        price_year=price_year,
        budget_holder=holder,
        value_type=kind,
        tag=tag,
        source_title=source[0],
        source_url=source[1],
        low=value * (1 - spread) if low is None else low,
        high=value * (1 + spread) if high is None else high,
    )


def _police(
    code: str, label: str, value: float, low: float | None = None, high: float | None = None
):
    return _cost(
        f"police_{code}",
        f"Police response: {label}",
        value,
        U.EVENT,
        "2022-23",
        B.POLICE,
        HOME_OFFICE,
        kind=T.NON_CASHABLE,
        low=low,
        high=high,
    )


DEFAULT_UNIT_COSTS: tuple[UnitCost, ...] = (
    # Placements (local authority children's services).
    _cost(
        "residential_home",
        "Children's home place",
        318_400,
        U.YEAR,
        "2023-24",
        B.LA_CHILDRENS,
        NAO_CARE,
        low=3_830 * 52.14,  # CMA: largest providers' average weekly price, c. 2020
        high=318_400 * 1.25,
    ),
    _cost(
        "foster_care",
        "Foster care (local authority, incl. allowances and support)",
        646,
        U.WEEK,
        "2016-17",
        B.LA_CHILDRENS,
        PSSRU_2017,
        low=600,  # PQ answer c. 2015-16
        high=820,  # independent fostering agency average price (CMA, c. 2020)
    ),
    _cost(
        "supported_accommodation",
        "Other out-of-home placement (16–17, supported accommodation)",
        1_278,
        U.WEEK,
        "2022-23",
        B.LA_CHILDRENS,
        THURROCK,
        tag=E.UNCERTAIN,
        low=750,
        high=5_027,
    ),
    _cost(
        "secure_welfare",
        "Secure children's home (welfare placement)",
        210_000,
        U.YEAR,
        "2018-19",
        B.LA_CHILDRENS,
        CC_2019,
    ),
    _cost(
        "mental_health_bed",
        "Medium secure CAMHS / mental health bed",
        1_611,
        U.DAY,
        "2018-19",
        B.NHS,
        CC_2019,
    ),
    # Custody (youth justice).
    _cost(
        "custody_sch",
        "Custody: secure children's home",
        210_000,
        U.YEAR,
        "2018-19",
        B.YOUTH_JUSTICE,
        CC_2019,
    ),
    _cost(
        "custody_stc",
        "Custody: secure training centre",
        160_000,
        U.YEAR,
        "2018-19",
        B.YOUTH_JUSTICE,
        CC_2019,
    ),
    _cost(
        "custody_yoi",
        "Custody: young offender institution",
        76_000,
        U.YEAR,
        "2018-19",
        B.YOUTH_JUSTICE,
        CC_2019,
    ),
    # Police response cost per recorded crime, Home Office category. Where our offence groups
    # span several Home Office categories, the lower figure is the value and the higher the top
    # of the range, so savings are not overstated.
    _police("violence", "violence against the person", 470, high=1_260),
    _police("robbery", "robbery", 2_100),
    _police("theft", "theft", 330, low=150, high=880),
    _police("burglary", "burglary", 870, high=1_250),
    _police("criminal_damage", "criminal damage and arson", 270, high=1_130),
    _police("drugs", "drug offences", 1_290, high=6_850),
    _police("weapons", "possession of weapons", 2_320),
    _police("public_order", "public order", 280, high=290),
    _police("sexual", "sexual offences", 3_100, high=5_110),
    _police("motoring", "vehicle offences", 640),
    _police("other", "miscellaneous crimes", 1_550),
    # Youth justice and courts: no verified national figures.
    _cost(
        "yot_order",
        "YOT supervision of a court order",
        0,
        U.EVENT,
        "2022-23",
        B.YOUTH_JUSTICE,
        PSSRU_CJ,
        tag=E.UNCERTAIN,
    ),
    _cost(
        "court_appearance",
        "Youth court appearance",
        0,
        U.EVENT,
        "2022-23",
        B.COURTS,
        NONE_FOUND,
        tag=E.UNCERTAIN,
    ),
    # Education.
    _cost(
        "permanent_exclusion",
        "Permanent exclusion (lifetime cost to society)",
        370_000,
        U.EVENT,
        "2016-17",
        B.EDUCATION,
        IPPR,
        kind=T.ECONOMIC,
        low=185_000,
        high=370_000,
    ),
    _cost(
        "suspension_day",
        "Suspension: a school day",
        0,
        U.DAY,
        "2022-23",
        B.EDUCATION,
        NONE_FOUND,
        tag=E.UNCERTAIN,
    ),
    # Staff time (meetings and contacts), by profession.
    _cost(
        "social_worker_hour",
        "Children's social worker, hour of client-related work",
        55,
        U.HOUR,
        "2013-14",
        B.LA_CHILDRENS,
        PSSRU_SW,
        kind=T.NON_CASHABLE,
        low=40,  # per hour worked, not client-related
        high=70,
    ),
    _cost(
        "camhs_hour",
        "CAMHS clinician hour (proxy: adult community mental health team)",
        37,
        U.HOUR,
        "2013-14",
        B.NHS,
        PSSRU_CMHT,
        tag=E.UNCERTAIN,
        kind=T.NON_CASHABLE,
    ),
    _cost(
        "teacher_hour",
        "Teacher or education welfare officer hour",
        0,
        U.HOUR,
        "2022-23",
        B.EDUCATION,
        PSSRU_CURRENT,
        tag=E.UNCERTAIN,
        kind=T.NON_CASHABLE,
    ),
    _cost(
        "police_officer_hour",
        "Police officer hour",
        0,
        U.HOUR,
        "2024-25",
        B.POLICE,
        NPCC,
        tag=E.UNCERTAIN,
        kind=T.NON_CASHABLE,
    ),
    _cost(
        "yos_officer_hour",
        "Youth offending service officer hour",
        0,
        U.HOUR,
        "2022-23",
        B.YOUTH_JUSTICE,
        PSSRU_CJ,
        tag=E.UNCERTAIN,
        kind=T.NON_CASHABLE,
    ),
)

# What a site with no staffing figures falls back on for the MST programme.
DEFAULT_MST_PER_FAMILY = _cost(
    "mst_per_family",
    "MST per family (London RCT, derived)",
    2_285,
    U.EVENT,
    "2009-10",
    B.LA_CHILDRENS,
    CARY,
    tag=E.UNCERTAIN,
)


@dataclass(frozen=True)
class DefaultIndex:
    name: str
    source_title: str
    source_url: str
    tag: Evidence
    values: dict[str, float]


# Recalled approximations of the HM Treasury GDP deflator (2022-23 = 100), NOT re-verified:
# replace them with the current release before publishing figures. The report shows the tag.
GDP_DEFLATOR = DefaultIndex(
    name="HM Treasury GDP deflator",
    source_title="HM Treasury, GDP deflators at market prices, and money GDP (approximate, "
    "recalled values — check against the latest release)",
    source_url="https://www.gov.uk/government/collections/gdp-deflators-at-market-prices-and-money-gdp",
    tag=E.RECALLED,
    values={
        "2008-09": 71.3,
        "2009-10": 72.3,
        "2010-11": 73.6,
        "2011-12": 74.9,
        "2012-13": 76.2,
        "2013-14": 77.6,
        "2014-15": 78.8,
        "2015-16": 79.4,
        "2016-17": 81.1,
        "2017-18": 82.6,
        "2018-19": 84.2,
        "2019-20": 86.2,
        "2020-21": 91.7,
        "2021-22": 92.9,
        "2022-23": 100.0,
        "2023-24": 107.0,
        "2024-25": 110.5,
    },
)
DEFAULT_PRICE_YEAR = "2023-24"

# How administrative records map to unit costs (the adapter in selectors uses these).
PLACEMENT_ITEMS = {
    "foster": "foster_care",
    "kinship": "foster_care",  # no kinship figure: costed as foster care (see docs/costs.md)
    "residential": "residential_home",
    "secure_welfare": "secure_welfare",
    "hospital": "mental_health_bed",
    "other": "supported_accommodation",
}
CUSTODY_ITEMS = {
    "yoi": "custody_yoi",
    "stc": "custody_stc",
    "sch": "custody_sch",
    "secure_school": "custody_sch",  # no secure-school figure: costed as a secure children's home
}
OFFENCE_ITEMS = {
    "violence": "police_violence",
    "robbery": "police_robbery",
    "theft": "police_theft",
    "burglary": "police_burglary",
    "criminal_damage": "police_criminal_damage",
    "drugs": "police_drugs",
    "weapons": "police_weapons",
    "public_order": "police_public_order",
    "sexual": "police_sexual",
    "motoring": "police_motoring",
    "other": "police_other",
}
# Offence outcomes that follow a court appearance, and those that the YOT supervises.
COURT_OUTCOMES = frozenset({"referral_order", "yro", "dto", "custody"})
YOT_ORDER_OUTCOMES = frozenset({"referral_order", "yro", "dto"})
# Agency kind of a meeting attendee -> whose hour it is.
AGENCY_HOUR_ITEMS = {
    "social_care": "social_worker_hour",
    "health": "camhs_hour",
    "education": "teacher_hour",
    "police": "police_officer_hour",
    "youth_justice": "yos_officer_hour",
}
