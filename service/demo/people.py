"""Who the demo network is made of: its sites and teams, their staff, and made-up patients.

Every name, telephone number and NHS number here is invented. Telephone numbers come from
Ofcom's drama range (07700 900000-900999), which no one is ever given, and NHS numbers start
999, which the NHS never issues, so nothing in a demo can ring or identify a real person.
"""

from __future__ import annotations

import random

DEMO_PASSWORD = "heart-failure-demo"

# Sites of the learning network (integrated care systems), each with its community
# heart-failure teams. The code names the site's users: nurse.<code><team>, siteadmin.<code>.
# The sites of the two worked value frameworks (service.demo.stewardship) run bigger caseloads,
# as the programme's first sites do: each of their teams takes this many patients for one of
# another site's, so their monthly figures are big enough to publish.
PILOT_SITES = ("DERBY", "LLR", "MSE")
PILOT_WEIGHT = 4


def team_weights() -> tuple[int, ...]:
    """Each team's weight, in the order the demo creates teams (site by site)."""
    return tuple(
        PILOT_WEIGHT if code in PILOT_SITES else 1 for code, _name, teams in SITES for _ in teams
    )


SITES: list[tuple[str, str, list[str]]] = [
    (
        "DERBY",
        "Derbyshire",
        [
            "Derby City community HF team",
            "North Derbyshire community HF team",
            "Erewash and Amber Valley HF team",
            "High Peak and Dales HF team",
        ],
    ),
    (
        "LLR",
        "Leicester, Leicestershire and Rutland",
        [
            "Leicester City HF team",
            "Leicestershire County and Rutland HF team",
            "Melton and Harborough HF team",
            "Hinckley and Bosworth HF team",
        ],
    ),
    (
        "MSE",
        "Mid and South Essex",
        [
            "Basildon and Thurrock HF team",
            "Southend HF team",
            "Mid Essex HF team",
            "Castle Point and Rochford HF team",
        ],
    ),
    (
        "BSOL",
        "Birmingham and Solihull",
        [
            "Birmingham North HF team",
            "Birmingham South and Central HF team",
            "Solihull HF team",
            "Birmingham East HF team",
        ],
    ),
    (
        "NOTTS",
        "Nottingham and Nottinghamshire",
        [
            "Nottingham City HF team",
            "Mid Nottinghamshire HF team",
            "Bassetlaw HF team",
            "South Nottinghamshire HF team",
        ],
    ),
    (
        "LSC",
        "Lancashire and South Cumbria",
        [
            "Morecambe Bay HF team",
            "Central Lancashire HF team",
            "Pennine Lancashire HF team",
            "Fylde Coast HF team",
        ],
    ),
    (
        "SOM",
        "Somerset",
        [
            "Taunton and West Somerset HF team",
            "Yeovil and South Somerset HF team",
            "Mendip HF team",
            "Sedgemoor HF team",
        ],
    ),
    (
        "FRIM",
        "Frimley",
        [
            "Frimley Park HF team",
            "Wexham Park HF team",
            "North East Hampshire and Farnham HF team",
            "Surrey Heath HF team",
        ],
    ),
    (
        "CHM",
        "Cheshire and Merseyside",
        [
            "Liverpool HF team",
            "Wirral HF team",
            "Warrington and Halton HF team",
            "East Cheshire HF team",
        ],
    ),
    (
        "HNY",
        "Humber and North Yorkshire",
        [
            "Hull HF team",
            "York and Selby HF team",
            "Scarborough and Ryedale HF team",
            "North East Lincolnshire HF team",
        ],
    ),
]

# Clinicians per team: the heart-failure specialist nurses who work the queue.
NURSES_PER_TEAM = 2

FIRST_FEMALE = (
    "Margaret",
    "Patricia",
    "Susan",
    "Linda",
    "Barbara",
    "Christine",
    "Janet",
    "Carol",
    "Elizabeth",
    "Mary",
    "Jean",
    "Sandra",
    "Pauline",
    "Maureen",
    "Brenda",
    "Valerie",
    "Sheila",
    "Kathleen",
    "Ann",
    "Gillian",
    "Irene",
    "Doreen",
    "Joan",
    "Shirley",
    "Jacqueline",
    "Eileen",
    "Hazel",
    "Marion",
    "Yvonne",
    "Wendy",
    "Rita",
    "Sylvia",
    "Gwendoline",
    "Alison",
    "Beverley",
    "Diane",
    "Priya",
    "Amrit",
    "Jaswinder",
    "Nasreen",
    "Farida",
    "Shabana",
    "Grace",
    "Comfort",
    "Blessing",
    "Halina",
    "Agnieszka",
)
FIRST_MALE = (
    "John",
    "David",
    "Michael",
    "Peter",
    "Robert",
    "Brian",
    "Anthony",
    "Alan",
    "William",
    "Stephen",
    "Kenneth",
    "Terence",
    "Keith",
    "Raymond",
    "Derek",
    "Colin",
    "Barry",
    "Graham",
    "Trevor",
    "Roy",
    "Geoffrey",
    "Malcolm",
    "Dennis",
    "Ronald",
    "Gordon",
    "Clive",
    "Roger",
    "Norman",
    "Harold",
    "Leslie",
    "Frank",
    "George",
    "Arthur",
    "Philip",
    "Christopher",
    "Paul",
    "Ian",
    "Richard",
    "Mohammed",
    "Abdul",
    "Gurdeep",
    "Rajesh",
    "Harbhajan",
    "Tariq",
    "Samuel",
    "Emmanuel",
    "Winston",
    "Krzysztof",
    "Tomasz",
)
SURNAMES = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Lewis",
    "James",
    "Phillips",
    "Mason",
    "Mitchell",
    "Rose",
    "Davis",
    "Rodriguez",
    "Cox",
    "Alexander",
    "Morris",
    "Turner",
    "Hughes",
    "Cooper",
    "Ward",
    "Bailey",
    "Parker",
    "Bell",
    "Harris",
    "Martin",
    "King",
    "Baker",
    "Hill",
    "Moore",
    "Allen",
    "Scott",
    "Lee",
    "Cook",
    "Chapman",
    "Marshall",
    "Begum",
    "Ali",
    "Hussain",
    "Singh",
    "Kaur",
    "Sharma",
    "Ahmed",
    "Okafor",
    "Mensah",
    "Campbell",
    "Nowak",
    "Kowalski",
    "Murphy",
    "Kelly",
    "Brennan",
    "Ashworth",
    "Heywood",
    "Pickering",
    "Thornton",
    "Sutcliffe",
    "Hardcastle",
    "Oakley",
    "Pryce",
)

# NHS ethnic category codes, roughly as in the 2021 census for these areas.
ETHNICITY = ["A"] * 70 + ["B", "C"] * 3 + ["D", "F", "G"] + ["H"] * 6 + ["J", "K", "L"] * 2
ETHNICITY += ["M", "N"] * 2 + ["R", "S", "Z", "99"]


def demo_phone(index: int) -> str:
    """A mobile number in Ofcom's drama range (07700 900000-900999): never anyone's phone."""
    return f"07700 {900000 + index % 1000:06d}"


def demo_name(rng: random.Random, sex: str) -> str:
    first = rng.choice(FIRST_FEMALE if sex == "female" else FIRST_MALE)
    return f"{first} {rng.choice(SURNAMES)}"
