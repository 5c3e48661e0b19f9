"""The fixed ingredients of the demo site: places, agencies, staff, names and their weights.

Everything here is synthetic. Postcode districts and towns are real so the data looks local;
schools, streets and people are invented. Phone numbers are in Ofcom's ranges reserved for drama
(07700 900xxx, 0161 496 0xxx), NHS numbers start 999 (never issued), e-mail domains are example.org.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "demo-mst-2026"
# Every demo user's e-mail ends with this, which is how the command finds them again (--if-empty).
DEMO_EMAIL_DOMAIN = "demo.mstoutcomes.example.org"


@dataclass(frozen=True)
class AgencySpec:
    key: str
    name: str
    kind: str  # accounts.models.AgencyKind value
    locality: str
    email_domain: str
    worker_role: str
    workers: tuple[str, ...]
    # Share of the site's referrals this agency makes.
    referral_weight: float
    # Chance the agency is involved with a young person it did not refer.
    involvement_chance: float


@dataclass(frozen=True)
class StaffSpec:
    username: str
    first_name: str
    last_name: str
    job_title: str
    # (site code, accounts.models.Role value, agency key or "")
    memberships: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class SiteSpec:
    """One MST team and the shape of its caseload over the two years before the as-of date."""

    code: str
    name: str
    locality: str
    people: int
    in_treatment: int
    awaiting: int
    therapists: tuple[str, ...]
    supervisor: str
    agencies: tuple[str, ...]
    # {postcode district: (town, weight)}
    districts: dict[str, tuple[str, float]]
    ethnicity_weights: dict[str, float]
    schools: tuple[str, ...]
    la_code: str  # used in synthetic Unique Pupil Numbers
    # A trial site: every accepted family goes to the trial (consent, randomisation) and only
    # those allocated to MST get an episode; `in_treatment` and `awaiting` are then not used.
    trial_site: bool = False


# ONS 2021 census shares, nudged towards the young people MST teams see (mixed White and Black
# Caribbean boys are over-represented in youth justice referrals).
TRAFFORD_ETHNICITY = {
    "white_british": 62.0,
    "white_irish": 1.0,
    "white_gypsy_traveller": 0.5,
    "white_roma": 0.5,
    "white_other": 4.0,
    "mixed_white_black_caribbean": 5.0,
    "mixed_white_black_african": 1.5,
    "mixed_white_asian": 2.0,
    "mixed_other": 2.0,
    "asian_pakistani": 7.0,
    "asian_indian": 3.0,
    "asian_bangladeshi": 1.0,
    "asian_chinese": 1.0,
    "asian_other": 1.0,
    "black_african": 3.5,
    "black_caribbean": 1.5,
    "black_other": 0.5,
    "other_arab": 1.0,
    "other_any": 1.0,
    "not_stated": 1.0,
}

STOCKPORT_ETHNICITY = {
    "white_british": 84.0,
    "white_other": 3.0,
    "mixed_white_black_caribbean": 3.0,
    "mixed_white_asian": 2.0,
    "asian_pakistani": 4.0,
    "asian_indian": 1.0,
    "black_african": 2.0,
    "other_any": 1.0,
}

SITES: tuple[SiteSpec, ...] = (
    SiteSpec(
        code="TRF",
        name="MST Trafford",
        locality="Trafford",
        people=90,
        in_treatment=11,
        awaiting=4,
        therapists=("therapist1", "therapist2", "therapist3"),
        supervisor="supervisor",
        agencies=("trf_yos", "trf_social_care", "trf_education", "trf_camhs"),
        districts={
            "M33": ("Sale", 24),
            "M41": ("Urmston", 16),
            "M32": ("Stretford", 14),
            "M16": ("Old Trafford", 12),
            "WA15": ("Timperley", 12),
            "WA14": ("Altrincham", 12),
            "M31": ("Partington", 10),
        },
        ethnicity_weights=TRAFFORD_ETHNICITY,
        schools=(
            "Ashcroft Academy",
            "Brookfield High School",
            "Larchwood Community School",
            "Meadowbank Academy",
            "St Aidan's RC High School",
            "Kingsway Park School",
            "Mersey Vale Pupil Referral Unit",
        ),
        la_code="358",
        trial_site=True,
    ),
    SiteSpec(
        code="STK",
        name="MST Stockport",
        locality="Stockport",
        people=6,
        in_treatment=2,
        awaiting=1,
        therapists=("stockport.therapist",),
        supervisor="stockport.supervisor",
        agencies=("stk_yos", "stk_social_care"),
        districts={
            "SK1": ("Stockport", 20),
            "SK2": ("Offerton", 20),
            "SK3": ("Edgeley", 20),
            "SK5": ("Reddish", 20),
            "SK6": ("Bredbury", 10),
            "SK7": ("Hazel Grove", 10),
        },
        ethnicity_weights=STOCKPORT_ETHNICITY,
        schools=("Goyt Valley Academy", "Hatherlow High School", "Tame Bridge School"),
        la_code="356",
    ),
)

AGENCIES: tuple[AgencySpec, ...] = (
    AgencySpec(
        key="trf_yos",
        name="Trafford Youth Offending Service",
        kind="youth_justice",
        locality="Trafford",
        email_domain="trafford-yos.example.org",
        worker_role="YOS case manager",
        workers=("Jade Thompson", "Carl Whitehead", "Nadia Hussain"),
        referral_weight=35,
        involvement_chance=0.25,
    ),
    AgencySpec(
        key="trf_social_care",
        name="Trafford Children's Social Care",
        kind="social_care",
        locality="Trafford",
        email_domain="trafford-csc.example.org",
        worker_role="Social worker",
        workers=("Louise Barker", "Michael Adeyemi", "Claire Fenton", "Ben Hargreaves"),
        referral_weight=30,
        involvement_chance=0.35,
    ),
    AgencySpec(
        key="trf_education",
        name="Trafford Education Inclusion Service",
        kind="education",
        locality="Trafford",
        email_domain="trafford-inclusion.example.org",
        worker_role="Inclusion officer",
        workers=("Helen Greaves", "Imran Qureshi", "Sarah Lomax"),
        referral_weight=20,
        involvement_chance=0.5,
    ),
    AgencySpec(
        key="trf_camhs",
        name="Trafford CAMHS",
        kind="health",
        locality="Trafford",
        email_domain="trafford-camhs.example.org",
        worker_role="Mental health practitioner",
        workers=("Dr Ruth Ellison", "Kieran Walsh", "Anjali Mehta"),
        referral_weight=15,
        involvement_chance=0.2,
    ),
    AgencySpec(
        key="stk_yos",
        name="Stockport Youth Offending Service",
        kind="youth_justice",
        locality="Stockport",
        email_domain="stockport-yos.example.org",
        worker_role="YOS case manager",
        workers=("Gareth Pollard", "Shona McKay"),
        referral_weight=50,
        involvement_chance=0.3,
    ),
    AgencySpec(
        key="stk_social_care",
        name="Stockport Children's Social Care",
        kind="social_care",
        locality="Stockport",
        email_domain="stockport-csc.example.org",
        worker_role="Social worker",
        workers=("Megan Aldridge", "Tunde Bakare"),
        referral_weight=50,
        involvement_chance=0.4,
    ),
)

# One user per role at the main site (the three therapists and the supervisor are the MST team),
# plus a small team at the second site so access scoping can be seen.
STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("therapist1", "Hannah", "Moss", "MST therapist", (("TRF", "therapist", ""),)),
    StaffSpec("therapist2", "Daniel", "Osei-Bonsu", "MST therapist", (("TRF", "therapist", ""),)),
    StaffSpec("therapist3", "Sophie", "Carrington", "MST therapist", (("TRF", "therapist", ""),)),
    StaffSpec("supervisor", "Rachel", "Hughes", "MST supervisor", (("TRF", "supervisor", ""),)),
    StaffSpec(
        "manager",
        "Martin",
        "Doyle",
        "MST programme manager",
        (("TRF", "programme_manager", ""),),
    ),
    StaffSpec(
        "referrer", "Jade", "Thompson", "YOS case manager", (("TRF", "referrer", "trf_yos"),)
    ),
    StaffSpec("research", "Aisha", "Rahman", "Research worker", (("TRF", "research_worker", ""),)),
    StaffSpec(
        "trialmanager",
        "Tom",
        "Whitfield",
        "Trial manager",
        (("TRF", "trial_manager", ""), ("STK", "trial_manager", "")),
    ),
    StaffSpec(
        "statistician",
        "Grace",
        "Lindqvist",
        "Trial statistician",
        (("TRF", "statistician", ""), ("STK", "statistician", "")),
    ),
    StaffSpec(
        "unblinded",
        "Nadia",
        "Okonkwo",
        "Unblinded trial statistician",
        (("TRF", "unblinded_statistician", ""), ("STK", "unblinded_statistician", "")),
    ),
    StaffSpec(
        "dmc",
        "Alan",
        "Reeve",
        "Chair of the data monitoring committee",
        (("TRF", "dmc_member", ""),),
    ),
    StaffSpec(
        "steering",
        "Peter",
        "Ashworth",
        "Head of Early Help (steering group)",
        (("TRF", "steering_group", ""),),
    ),
    StaffSpec(
        "admin",
        "Sam",
        "Kettering",
        "Systems administrator",
        (("TRF", "administrator", ""), ("STK", "administrator", "")),
    ),
    StaffSpec(
        "stockport.therapist", "Leah", "Brennan", "MST therapist", (("STK", "therapist", ""),)
    ),
    StaffSpec(
        "stockport.supervisor",
        "Owen",
        "Pritchard",
        "MST supervisor",
        (("STK", "supervisor", ""),),
    ),
)

# Name pools by heritage, so that names and recorded ethnicity agree as they would in a real list.
GIVEN_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "british": {
        "male": (
            "Alfie",
            "Archie",
            "Bailey",
            "Callum",
            "Charlie",
            "Connor",
            "Dylan",
            "Ethan",
            "Finley",
            "Harvey",
            "Jack",
            "Jake",
            "Jayden",
            "Kai",
            "Kian",
            "Leo",
            "Lewis",
            "Liam",
            "Lucas",
            "Mason",
            "Max",
            "Nathan",
            "Oliver",
            "Owen",
            "Reece",
            "Riley",
            "Ryan",
            "Sam",
            "Tyler",
            "Zak",
            "Jordan",
            "Brandon",
            "Declan",
            "Harry",
            "Louis",
            "Ellis",
        ),
        "female": (
            "Amelia",
            "Amber",
            "Abbie",
            "Chloe",
            "Courtney",
            "Ella",
            "Ellie",
            "Evie",
            "Grace",
            "Holly",
            "Isla",
            "Jasmine",
            "Kayla",
            "Keira",
            "Lacey",
            "Leah",
            "Lily",
            "Megan",
            "Mia",
            "Millie",
            "Molly",
            "Paige",
            "Phoebe",
            "Poppy",
            "Ruby",
            "Sienna",
            "Skye",
            "Tia",
            "Niamh",
            "Caitlin",
        ),
    },
    "eastern_european": {
        "male": ("Jakub", "Filip", "Mateusz", "Kacper", "Andrei", "Luka", "Dominik", "Tomas"),
        "female": ("Zuzanna", "Natalia", "Oliwia", "Maja", "Alexandra", "Ioana", "Lenka"),
    },
    "south_asian_muslim": {
        "male": ("Ayaan", "Hamza", "Ibrahim", "Zain", "Bilal", "Yusuf", "Rayyan", "Adam", "Haris"),
        "female": ("Aaliyah", "Amira", "Hafsa", "Inaya", "Maryam", "Zara", "Anaya", "Safa"),
    },
    "indian": {
        "male": ("Arjun", "Rohan", "Dev", "Harjit", "Jaskaran", "Karan", "Nikhil", "Vikram"),
        "female": ("Anika", "Priya", "Simran", "Jasleen", "Riya", "Diya", "Kiran"),
    },
    "african": {
        "male": ("Tobi", "Emmanuel", "Kwame", "Abdi", "David", "Samuel", "Joshua", "Daniel"),
        "female": ("Blessing", "Favour", "Amina", "Ama", "Esther", "Precious", "Hodan"),
    },
    "arab": {
        "male": ("Omar", "Yousef", "Khalid", "Karim", "Ali"),
        "female": ("Layla", "Mariam", "Noor", "Yasmin", "Salma"),
    },
}

# Given names for parents (a generation older), where they differ from the young people's.
PARENT_GIVEN_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "british": {
        "male": (
            "Craig",
            "Darren",
            "Dean",
            "Gary",
            "Jason",
            "Lee",
            "Mark",
            "Paul",
            "Richard",
            "Scott",
            "Shaun",
            "Stephen",
            "Wayne",
            "Andrew",
            "Carl",
        ),
        "female": (
            "Claire",
            "Donna",
            "Emma",
            "Gemma",
            "Hayley",
            "Joanne",
            "Kelly",
            "Kerry",
            "Laura",
            "Lisa",
            "Michelle",
            "Natalie",
            "Nicola",
            "Sarah",
            "Stacey",
            "Vicky",
            "Leanne",
        ),
    },
    "grandparent": {
        "male": ("Brian", "Keith", "Derek", "Alan", "Trevor"),
        "female": ("Susan", "Janet", "Linda", "Pauline", "Carol", "Maureen"),
    },
}

SURNAMES: dict[str, tuple[str, ...]] = {
    "british": (
        "Armstrong",
        "Bennett",
        "Bradshaw",
        "Brooks",
        "Butler",
        "Chadwick",
        "Clarke",
        "Cooper",
        "Dawson",
        "Dixon",
        "Fletcher",
        "Gibson",
        "Hall",
        "Holt",
        "Howarth",
        "Jackson",
        "Jones",
        "Kelly",
        "Kershaw",
        "Lord",
        "Marsden",
        "Mitchell",
        "Nuttall",
        "Owens",
        "Parkinson",
        "Pearson",
        "Riley",
        "Robinson",
        "Shaw",
        "Stott",
        "Taylor",
        "Turner",
        "Walker",
        "Ward",
        "Whittaker",
        "Wilson",
        "Wood",
        "Wright",
        "Campbell",
        "Brown",
        "Murphy",
        "Doherty",
        "Lynch",
        "Quinn",
        "Connolly",
    ),
    "eastern_european": (
        "Nowak",
        "Mazur",
        "Popescu",
        "Horvath",
        "Dvorak",
        "Balogh",
        "Wozniak",
        "Krawczyk",
    ),
    "south_asian_muslim": (
        "Khan",
        "Hussain",
        "Ahmed",
        "Ali",
        "Iqbal",
        "Mahmood",
        "Rashid",
        "Akhtar",
        "Miah",
        "Uddin",
        "Chowdhury",
    ),
    "indian": ("Patel", "Sharma", "Singh", "Gill", "Sandhu", "Mistry", "Chauhan"),
    "african": ("Adebayo", "Mensah", "Boateng", "Nwosu", "Okoro", "Abdi", "Mohamed", "Asante"),
    "arab": ("Hassan", "Ibrahim", "Saleh", "Mansour", "Haddad"),
    "chinese": ("Chen", "Wong", "Li", "Zhang", "Cheung", "Lam"),
}

# Which name pools (given names, surname) fit each recorded ethnicity.
HERITAGE: dict[str, tuple[str, str]] = {
    "white_british": ("british", "british"),
    "white_irish": ("british", "british"),
    "white_gypsy_traveller": ("british", "british"),
    "white_roma": ("eastern_european", "eastern_european"),
    "white_other": ("eastern_european", "eastern_european"),
    "mixed_white_black_caribbean": ("british", "british"),
    "mixed_white_black_african": ("british", "african"),
    "mixed_white_asian": ("british", "british"),
    "mixed_other": ("british", "british"),
    "asian_pakistani": ("south_asian_muslim", "south_asian_muslim"),
    "asian_bangladeshi": ("south_asian_muslim", "south_asian_muslim"),
    "asian_indian": ("indian", "indian"),
    "asian_chinese": ("british", "chinese"),
    "asian_other": ("south_asian_muslim", "south_asian_muslim"),
    "black_african": ("african", "african"),
    "black_caribbean": ("british", "british"),
    "black_other": ("british", "british"),
    "other_arab": ("arab", "arab"),
    "other_any": ("british", "british"),
    "not_stated": ("british", "british"),
    "refused": ("british", "british"),
}

STREETS: tuple[str, ...] = (
    "Larch Avenue",
    "Hollins Road",
    "Ashfield Close",
    "Moorside Street",
    "Brook Lane",
    "Cedar Grove",
    "Highfield Road",
    "Princess Street",
    "Victoria Terrace",
    "Oakwood Drive",
    "Mill Street",
    "Park View",
    "Chestnut Walk",
    "Church Lane",
    "Derwent Road",
    "Rowan Way",
    "Canal Side",
    "Heath Crescent",
    "Sycamore Court",
    "Beech Road",
)

# Discharge reasons as a share of ended episodes (completion about three in four, as in MST UK).
DISCHARGE_MIX: dict[str, float] = {
    "completed": 0.76,
    "lack_of_engagement": 0.10,
    "placed_care": 0.04,
    "placed_custody": 0.04,
    "moved": 0.04,
    "administrative": 0.02,
}

# Share of completed episodes ending with each MST ultimate outcome.
COMPLETED_OUTCOMES: dict[str, float] = {
    "living_at_home": 0.92,
    "in_school_or_work": 0.84,
    "no_new_arrests": 0.88,
}

# For other endings: chance of yes for each outcome, or True/False/None when it follows from the
# reason (placed in care means not living at home; a family who moved away is not followed up).
OTHER_OUTCOMES: dict[str, dict[str, float | bool | None]] = {
    "lack_of_engagement": {
        "living_at_home": 0.75,
        "in_school_or_work": 0.4,
        "no_new_arrests": 0.55,
    },
    "placed_care": {"living_at_home": False, "in_school_or_work": 0.5, "no_new_arrests": 0.6},
    "placed_custody": {
        "living_at_home": False,
        "in_school_or_work": False,
        "no_new_arrests": False,
    },
    "moved": {"living_at_home": True, "in_school_or_work": None, "no_new_arrests": None},
    "administrative": {"living_at_home": 0.8, "in_school_or_work": 0.6, "no_new_arrests": 0.7},
}

# Days an episode lasts, by how it ended: (shortest, longest, most likely).
EPISODE_DAYS: dict[str, tuple[int, int, int]] = {
    "completed": (91, 152, 120),
    "lack_of_engagement": (28, 100, 56),
    "placed_care": (21, 120, 60),
    "placed_custody": (21, 120, 60),
    "moved": (21, 120, 60),
    "administrative": (30, 120, 70),
}

DISCHARGE_NOTES: dict[str, tuple[str, ...]] = {
    "completed": (
        "Goals met. Carers now monitor whereabouts and use agreed consequences.",
        "Overarching goals met; school attendance above 90% for the last six weeks.",
        "Family sustaining changes; safety plan and support network in place.",
        "Most goals met. Carer confident to manage without MST; links to youth club made.",
    ),
    "lack_of_engagement": (
        "Carer stopped engaging after week six despite repeated engagement attempts.",
        "Family declined further sessions; case returned to the referrer.",
    ),
    "placed_care": ("Young person accommodated under section 20 after a family breakdown.",),
    "placed_custody": ("Remanded to youth detention accommodation.",),
    "moved": ("Family moved out of the area; details passed to the new local authority.",),
    "administrative": ("Closed after a change in funding arrangements; referrer informed.",),
}

# The trial at the trial site (mstoutcomes/trial/config/start-demo.toml) and how its families go.
TRIAL_CONFIG = "start-demo.toml"
# Families accepted at panel who are not randomised: failing a trial criterion, or declining.
TRIAL_NOT_ELIGIBLE = 3
TRIAL_DECLINED = 7
# Randomised families who later withdraw from further data collection, or are lost to follow-up.
TRIAL_WITHDRAWALS = 1
TRIAL_LOST = 5
# Days from the panel's acceptance to consent, and from consent to randomisation.
CONSENT_DAYS = (4, 21)
RANDOMISE_DAYS = (0, 6)
# Days from randomisation to the first MST session when a therapist has a place.
MST_WAIT_DAYS = (7, 24)
# The recruitment period: referrals from this many days before the as-of date to 10 days before.
RECRUITMENT_DAYS = 660
