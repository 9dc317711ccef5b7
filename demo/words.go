package demo

// Word lists for the generator. A few hundred entries in all: enough for
// names that look real to a consultant skimming a profile, small enough to
// read. Company-name stems are ASCII so that the slug of a name (and so the
// domain) is injective.

var countries = []string{"SE", "FR", "DE", "GB", "US"}

// countryWeights: a Nordic vendor with customers mostly in Europe.
var countryWeights = []float64{0.35, 0.2, 0.2, 0.15, 0.1}

type nameList struct {
	female, male, last []string
}

var names = map[string]nameList{
	"SE": {
		female: []string{"Anna", "Eva", "Maria", "Karin", "Sara", "Emma", "Elin", "Ida", "Linnea", "Johanna", "Sofia", "Maja", "Ingrid", "Malin", "Frida", "Elisabeth", "Margareta", "Katarina", "Helena", "Åsa", "Louise", "Hanna"},
		male:   []string{"Erik", "Lars", "Karl", "Anders", "Johan", "Per", "Nils", "Mikael", "Jan", "Fredrik", "Oskar", "Gustav", "Magnus", "Henrik", "Björn", "Mattias", "Daniel", "Robert", "Alexander", "William", "Jonas", "Tobias"},
		last:   []string{"Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Lindberg", "Lindqvist", "Bergström", "Lundgren", "Holm", "Sjöberg", "Engström", "Ekström", "Lindholm", "Wallin", "Forsberg", "Åberg", "Nyström", "Hedlund"},
	},
	"FR": {
		female: []string{"Marie", "Camille", "Julie", "Sophie", "Claire", "Céline", "Isabelle", "Nathalie", "Élodie", "Aurélie", "Manon", "Léa", "Chloé", "Émilie", "Sandrine", "Valérie", "Catherine", "Hélène", "Margaux", "Pauline"},
		male:   []string{"Jean", "Pierre", "Nicolas", "Thomas", "Julien", "Antoine", "François", "Guillaume", "Mathieu", "Olivier", "Sébastien", "Frédéric", "Laurent", "Philippe", "Alexandre", "Christophe", "Hugo", "Louis", "Jean-Pierre", "Michel"},
		last:   []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert"},
	},
	"DE": {
		female: []string{"Anna", "Julia", "Katharina", "Laura", "Lena", "Sarah", "Lisa", "Sabine", "Claudia", "Susanne", "Andrea", "Stefanie", "Nicole", "Petra", "Birgit", "Ursula", "Monika", "Jana", "Franziska", "Elisabeth"},
		male:   []string{"Thomas", "Michael", "Andreas", "Stefan", "Christian", "Markus", "Jürgen", "Klaus", "Wolfgang", "Frank", "Tobias", "Sebastian", "Florian", "Matthias", "Alexander", "Jan", "Lukas", "Johannes", "Daniel", "Robert"},
		last:   []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Weiß"},
	},
	"GB": {
		female: []string{"Olivia", "Emily", "Charlotte", "Sophie", "Jessica", "Hannah", "Lucy", "Grace", "Amelia", "Rebecca", "Katherine", "Elizabeth", "Victoria", "Rachel", "Laura", "Helen", "Sarah", "Jennifer", "Margaret", "Eleanor"},
		male:   []string{"James", "Oliver", "Harry", "George", "Jack", "Thomas", "William", "Robert", "David", "Richard", "Daniel", "Matthew", "Christopher", "Andrew", "Edward", "Michael", "Samuel", "Benjamin", "Joseph", "Nicholas"},
		last:   []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Harris", "Lewis", "Hughes", "Edwards", "Turner", "Cooper"},
	},
	"US": {
		female: []string{"Jennifer", "Jessica", "Ashley", "Amanda", "Sarah", "Emily", "Elizabeth", "Megan", "Lauren", "Rachel", "Stephanie", "Nicole", "Katherine", "Samantha", "Michelle", "Kimberly", "Rebecca", "Amy", "Patricia", "Linda"},
		male:   []string{"Michael", "Christopher", "Matthew", "Joshua", "David", "James", "Daniel", "Robert", "John", "Joseph", "Andrew", "Ryan", "Brandon", "Justin", "William", "Kevin", "Brian", "Anthony", "Jonathan", "Richard"},
		last:   []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Garcia", "Rodriguez", "Wilson", "Martinez", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen"},
	},
}

// nicknames: the short form a sales rep types for the same person.
var nicknames = map[string]string{
	"Robert": "Bob", "William": "Bill", "Richard": "Dick", "Michael": "Mike", "Christopher": "Chris",
	"Matthew": "Matt", "Daniel": "Dan", "Nicholas": "Nick", "Thomas": "Tom", "Alexander": "Alex",
	"Andrew": "Andy", "Benjamin": "Ben", "Samuel": "Sam", "Edward": "Ted", "Joseph": "Joe",
	"Jonathan": "Jon", "Anthony": "Tony", "James": "Jim", "David": "Dave", "Joshua": "Josh",
	"Elizabeth": "Liz", "Katherine": "Kate", "Jennifer": "Jen", "Rebecca": "Becky", "Samantha": "Sam",
	"Stephanie": "Steph", "Margaret": "Maggie", "Victoria": "Vicky", "Patricia": "Pat", "Kimberly": "Kim",
	"Elisabeth": "Lisa", "Katarina": "Kajsa", "Margareta": "Greta", "Johanna": "Hanna", "Fredrik": "Fredde",
	"Mikael": "Micke", "Johannes": "Hannes", "Katharina": "Kathi", "Franziska": "Franzi", "Sebastian": "Basti",
	"Matthias": "Matze", "Stefanie": "Steffi", "Frédéric": "Fred", "Guillaume": "Guillo", "Alexandre": "Alex",
	"Christophe": "Chris", "Jean-Pierre": "JP", "Sébastien": "Seb", "Nathalie": "Nath", "Aurélie": "Aurel",
}

// Company names: "<stem> <noun>" (and a legal suffix per country); stems and
// nouns are ASCII.
var companyStems = []string{
	"Acme", "Nordvik", "Polar", "Granite", "Alpen", "Blue Harbor", "Redwood", "Silverline", "Northwind", "Bluefin",
	"Fjord", "Tundra", "Aurora", "Boreal", "Kestrel", "Falcon", "Lynx", "Orca", "Viking", "Saga",
	"Linden", "Birch", "Cedar", "Maple", "Oakridge", "Willow", "Aspen", "Elm", "Juniper", "Rowan",
	"Atlas", "Helix", "Vertex", "Quantum", "Nimbus", "Zenith", "Apex", "Summit", "Pinnacle", "Meridian",
	"Beacon", "Harbor", "Anchor", "Compass", "Lighthouse", "Keystone", "Cornerstone", "Bridgeway", "Crossroads", "Gateway",
	"Rhein", "Elbe", "Isar", "Main", "Donau", "Seine", "Loire", "Rhone", "Garonne", "Thames",
	"Avon", "Severn", "Hudson", "Potomac", "Tahoe", "Sierra", "Cascade", "Rainier", "Denali", "Mesa",
	"Lumen", "Solis", "Terra", "Aqua", "Ignis", "Ventus", "Nova", "Stella", "Luna", "Orbit",
	"Brightpath", "Clearview", "Greenfield", "Highland", "Lakeside", "Riverside", "Stonebridge", "Westbrook", "Eastgate", "Southport",
	"Copper", "Iron", "Cobalt", "Nickel", "Carbon", "Graphite", "Quartz", "Onyx", "Amber", "Jade",
	"Pixel", "Vector", "Matrix", "Signal", "Cipher", "Kernel", "Stack", "Cloudberry", "Lingon", "Hjortron",
	"Kraft", "Stern", "Falke", "Adler", "Berg", "Wald", "Feld", "Sonne", "Blitz", "Funke",
	"Rivage", "Etoile", "Soleil", "Lumiere", "Horizon", "Azur", "Mistral", "Provence", "Bastille", "Montagne",
	"Kingsley", "Ashford", "Whitmore", "Hartley", "Pemberton", "Langley", "Fairfax", "Sterling", "Bradford", "Chandler",
}

var companyNouns = []string{
	"Logistics", "Systems", "Foods", "Analytics", "Robotics", "Medical", "Software", "Energy", "Consulting", "Engineering",
	"Industries", "Solutions", "Labs", "Networks", "Security", "Retail", "Pharma", "Capital", "Media", "Design",
	"Manufacturing", "Freight", "Marine", "Aviation", "Textiles", "Packaging", "Materials", "Instruments", "Diagnostics", "Biotech",
	"Telecom", "Data", "Cloud", "Devices", "Components", "Automation", "Hydraulics", "Optics", "Sensors", "Motors",
	"Furniture", "Interiors", "Construction", "Properties", "Hotels", "Travel", "Learning", "Health", "Dental", "Veterinary",
	"Brewing", "Coffee", "Bakery", "Dairy", "Farms", "Seafood", "Wines", "Cosmetics", "Apparel", "Outdoor",
	"Print", "Publishing", "Studios", "Games", "Payments", "Insurance", "Leasing", "Recruitment", "Facilities", "Waste",
	"Water", "Solar", "Wind", "Batteries", "Chemicals", "Plastics", "Steel", "Timber", "Paper", "Glass",
}

// Cities disambiguate company names once stems x nouns run out (large runs).
var cities = []string{
	"Stockholm", "Gothenburg", "Malmo", "Uppsala", "Paris", "Lyon", "Marseille", "Toulouse", "Berlin", "Munich",
	"Hamburg", "Cologne", "London", "Manchester", "Leeds", "Bristol", "Boston", "Chicago", "Denver", "Austin",
	"Oslo", "Copenhagen", "Helsinki", "Vienna", "Zurich", "Madrid", "Milan", "Dublin", "Lisbon", "Prague",
}

// legalSuffixes per country: the canonical one first, then the variants
// people type.
var legalSuffixes = map[string][]string{
	"SE": {"AB", "Aktiebolag", "AB (publ)"},
	"FR": {"SAS", "SA", "SARL", "S.A.S."},
	"DE": {"GmbH", "AG", "GmbH & Co. KG"},
	"GB": {"Ltd", "Limited", "Ltd.", "plc"},
	"US": {"Inc.", "Inc", "LLC", "Corp."},
}

var tlds = map[string]string{"SE": "se", "FR": "fr", "DE": "de", "GB": "co.uk", "US": "com"}

var industries = []string{
	"Software", "Manufacturing", "Logistics", "Retail", "Healthcare", "Financial Services", "Energy",
	"Construction", "Education", "Media", "Hospitality", "Telecommunications", "Food & Beverage", "Consulting",
}

var titles = []string{
	"CEO", "CTO", "CFO", "COO", "Head of Sales", "Sales Manager", "Account Executive", "Purchasing Manager",
	"Procurement Lead", "IT Manager", "Head of IT", "Operations Manager", "Marketing Manager", "CMO",
	"Office Manager", "Project Manager", "Product Manager", "VP Engineering", "Finance Director", "HR Manager",
	"Buyer", "Logistics Coordinator", "Customer Success Manager", "Founder", "Managing Director",
}

// freeMail domains, with the countries where each is common.
var freeMailAll = []string{"gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com"}
var freeMailLocal = map[string][]string{"DE": {"gmx.de", "web.de"}, "FR": {"orange.fr"}}

// FreeMailDomains is the list Profile counts as free-mail providers.
var FreeMailDomains = []string{
	"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
	"gmx.de", "web.de", "orange.fr", "free.fr", "wanadoo.fr", "hotmail.se", "telia.com",
}

// The vendor migrating its CRM; sales reps have addresses at this domain.
const (
	vendorDomain = "nordlys.example"
	// DefaultOwner is the new CRM's default owner, used for records whose old owner is gone.
	DefaultOwner = "revops@" + vendorDomain
)

var repFirst = []string{"Anna", "Erik", "Sara", "Johan", "Maria", "Oskar", "Emma", "Lars", "Camille", "Thomas", "Julia", "Jack", "Linnea", "Lukas", "Sophie", "Daniel", "Klara", "Viktor", "Ebba", "Axel"}
var repLast = []string{"Lindqvist", "Berg", "Holm", "Nyberg", "Sandberg", "Dahl", "Strand", "Ek", "Moreau", "Weber", "Fischer", "Clarke", "Blom", "Lund", "Laurent", "Hartmann", "Falk", "Norén", "Wikström", "Håkansson"}

var leadSources = []string{"Web form", "Webinar", "Trade show", "Content download", "Chat", "Referral", "Paid search", "LinkedIn", "Partner", "Cold list"}
var leadStatuses = []string{"Open", "Working", "Nurturing", "Unqualified", "Converted"}

var meetingSubjects = []string{"Discovery call", "Demo", "QBR", "Kick-off", "Pricing review", "Onboarding session", "Renewal discussion", "Technical deep dive", "Executive sponsor meeting"}
var callSubjects = []string{"Follow-up", "Intro call", "Left voicemail", "Pricing question", "Support escalation", "Renewal reminder", "Check-in"}
var emailSubjects = []string{"Proposal attached", "Re: your question", "Next steps", "Contract draft", "Intro", "Case study", "Invoice query", "Meeting notes"}

var dealNouns = []string{"Platform licence", "Expansion", "Renewal", "Pilot", "Enterprise upgrade", "Add-on seats", "Professional services", "Migration project", "Annual plan", "Support package"}
