"""Word lists the demo warehouse draws names, titles and channels from."""

from __future__ import annotations

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Carlos", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark", "Ashley",
    "Paul", "Emily", "Steven", "Donna", "Andrew", "Michelle", "Kenneth", "Carol", "Joshua",
    "Amanda", "Kevin", "Melissa", "Brian", "Deborah", "George", "Stephanie", "Timothy", "Rebecca",
    "Ronald", "Laura", "Jason", "Sharon", "Edward", "Cynthia", "Jeffrey", "Kathleen", "Ryan",
    "Amy", "Jacob", "Angela", "Gary", "Shirley", "Nicholas", "Anna", "Eric", "Brenda", "Jonathan",
    "Pamela", "Stephen", "Emma", "Larry", "Nicole", "Justin", "Helen", "Scott", "Samantha",
    "Brandon", "Katherine", "Benjamin", "Christine", "Samuel", "Debra", "Gregory", "Rachel",
    "Alexander", "Carolyn", "Patrick", "Janet", "Frank", "Maria", "Raymond", "Olivia", "Jack",
    "Heather", "Dennis", "Diane", "Jerry", "Julie", "Tyler", "Joyce", "Aaron", "Victoria",
    "Wei", "Priya", "Hiroshi", "Aisha", "Lucas", "Sofia", "Mateo", "Chloe", "Arjun", "Yuki",
    "Lukas", "Ingrid", "Omar", "Fatima", "Pierre", "Camille", "Diego", "Valentina", "Kenji", "Mei",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner",
    "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales",
    "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey",
    "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks",
    "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez",
    "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell",
    "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
    "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander",
    "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes",
    "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray",
    "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "Mcdonald", "Woods",
    "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb", "Tucker",
    "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez",
    "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks", "Holmes", "Palmer",
    "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills",
    "Meyer", "Rice", "Schmidt", "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto",
    "Weaver", "Ryan", "Gardner", "Payne", "Grant", "Dunn", "Kelley", "Spencer", "Hawkins",
    "Muller", "Schneider", "Dubois", "Rossi", "Tanaka", "Suzuki", "Singh", "Kumar", "Wang", "Li",
)
COMPANY_WORDS = (
    "Blue", "Harbor", "Summit", "Apex", "Granite", "Cedar", "Northwind", "Silver", "Bright",
    "Iron", "Pioneer", "Quantum", "Atlas", "Beacon", "Crescent", "Evergreen", "Falcon", "Frontier",
    "Horizon", "Keystone", "Lighthouse", "Maple", "Meridian", "Nimbus", "Orion", "Pinnacle",
    "Redwood", "Sapphire", "Sterling", "Trident", "Vertex", "Willow", "Zenith", "Aurora", "Cobalt",
    "Delta", "Echo", "Fusion", "Galaxy", "Helix", "Insight", "Juniper", "Kinetic", "Lumen",
    "Nova", "Oak", "Prairie", "Quartz", "Riverbend", "Solstice", "Titan", "Unity", "Vantage",
)
COMPANY_SUFFIXES = (
    "Systems", "Labs", "Health", "Logistics", "Analytics", "Partners", "Group", "Foods",
    "Energy", "Software", "Capital", "Retail", "Networks", "Robotics", "Media", "Industries",
)
INDUSTRIES = (
    "Software", "Financial Services", "Healthcare", "Manufacturing", "Retail", "Education",
    "Media", "Logistics", "Energy", "Telecommunications", "Professional Services", "Public Sector",
)
TITLES = (
    "VP Sales", "Sales Director", "Head of Revenue Operations", "RevOps Manager",
    "Marketing Manager", "CMO", "CFO", "Controller", "Data Analyst", "IT Director", "CTO",
    "Operations Manager", "Account Manager", "Procurement Lead", "CEO", "Product Manager",
    "Demand Generation Manager", "Customer Success Manager", "Engineering Manager", "COO",
)
CAMPAIGN_CHANNELS = (
    "webinar", "paid_search", "paid_social", "event", "content", "email", "partner",
)
MARKETING_TOUCH_CHANNELS = (
    "email", "webinar", "paid_social", "paid_search", "event", "content",
)
SALES_TOUCH_CHANNELS = ("call", "email", "meeting", "linkedin")
OPEN_STAGES = ("Discovery", "Qualification", "Solution", "Proposal", "Negotiation")
STAGE_PROBABILITY = (10, 20, 40, 60, 80)


def sql_list(words: tuple[str, ...]) -> str:
    """A DuckDB list literal of `words` (none of them contains a quote)."""
    return "[" + ", ".join(f"'{w}'" for w in words) + "]"


def sql_pick(words: tuple[str, ...], index_sql: str) -> str:
    """SQL for words[index] where `index_sql` is a 0-based integer expression."""
    return f"{sql_list(words)}[1 + ({index_sql})]"
