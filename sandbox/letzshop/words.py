"""Vocabulary for believable Luxembourg-market orders.

Product names come in the three languages Letzshop shows (en, fr, de); people and
places lean on the Greater Region, whose names naturally carry accents and umlauts.
"""

from __future__ import annotations

# (en, fr, de) nouns for the kind of goods a small Luxembourg shop lists.
NOUNS = (
    ("T-shirt", "T-shirt", "T-Shirt"),
    ("Mug", "Tasse", "Becher"),
    ("Backpack", "Sac à dos", "Rucksack"),
    ("Scarf", "Écharpe", "Schal"),
    ("Candle", "Bougie", "Kerze"),
    ("Notebook", "Carnet", "Notizbuch"),
    ("Tea towel", "Torchon", "Geschirrtuch"),
    ("Honey jar", "Pot de miel", "Honigglas"),
    ("Wine glass", "Verre à vin", "Weinglas"),
    ("Cutting board", "Planche à découper", "Schneidebrett"),
    ("Poster", "Affiche", "Poster"),
    ("Cap", "Casquette", "Mütze"),
    ("Socks", "Chaussettes", "Socken"),
    ("Soap", "Savon", "Seife"),
    ("Puzzle", "Puzzle", "Puzzle"),
    ("Tote bag", "Sac cabas", "Stofftasche"),
    ("Coffee beans", "Café en grains", "Kaffeebohnen"),
    ("Chocolate bar", "Tablette de chocolat", "Schokoladentafel"),
    ("Umbrella", "Parapluie", "Regenschirm"),
    ("Cushion", "Coussin", "Kissen"),
    ("Bottle opener", "Décapsuleur", "Flaschenöffner"),
    ("Keyring", "Porte-clés", "Schlüsselanhänger"),
    ("Apron", "Tablier", "Schürze"),
    ("Lamp", "Lampe", "Lampe"),
)

# (en, fr, de) colours, used as the variant dimension.
COLOURS = (
    ("red", "rouge", "rot"),
    ("blue", "bleu", "blau"),
    ("green", "vert", "grün"),
    ("black", "noir", "schwarz"),
    ("white", "blanc", "weiß"),
    ("grey", "gris", "grau"),
    ("yellow", "jaune", "gelb"),
    ("navy", "marine", "marineblau"),
    ("beige", "beige", "beige"),
    ("pink", "rose", "rosa"),
)

# Product lines, named after places; the same in every language.
LINES = (
    "Kirchberg", "Moselle", "Éislek", "Ösling", "Clervaux", "Vianden", "Echternach",
    "Pétrusse", "Grund", "Remich", "Wiltz", "Mersch", "Bourscheid", "Müllerthal",
    "Schengen", "Dudelange", "Esch", "Beaufort", "Larochette", "Stadtbredimus",
)

# Names chosen to trip up encodings: combining accents (NFD), emoji, CJK, ligatures,
# right-to-left script, non-breaking and zero-width characters.
EXOTIC_LINES = (
    "Cafe\u0301 Crème ☕",
    "Zürich 東京 Édition",
    "Ĳssel œuvre ﬁne",
    "Été\u00a02024 🎁",
    "Łódź–Škoda ✓",
    "Straße ß/ẞ",
    "Sōjū 소주",
    "سوق Souk",
    "Zero\u200bwidth",
)

BRANDS = (
    "Lëtzebuerger Kaffi", "Maison Moselle", "Böhm & Söhne", "Atelier Pétrusse",
    "Nordstad Goods", "Minett Made", "Huel Design", "Schmit Frères", "Gréngt Haus",
    "Ardennes Outdoor", "Kueb & Co", "Bamm Textiles", "Villa Vauban", "Rout Léiw",
    "Belval Lab", "Mamer Mills", "Gëlle Fra", "Sauer & Our", "Hunnegbéi", "Pëtschen",
)

FIRST_NAMES = (
    "Léa", "Luca", "Emma", "Noah", "Mia", "Gabriel", "Chloé", "Ben", "Zoé", "Tom",
    "Sofia", "Jérôme", "Anaïs", "Jonas", "Inês", "João", "Marie", "Lukas", "Hélène",
    "Max", "Ana", "Théo", "Laura", "Pol", "Nathalie", "François", "Sven", "Björn",
    "Maëlle", "Gonçalo",
)

LAST_NAMES = (
    "Schmit", "Muller", "Weber", "Wagner", "Hoffmann", "Thill", "Schroeder", "Reuter",
    "Klein", "Becker", "Da Silva", "Pereira", "Gonçalves", "Ferreira", "Dupont",
    "Lefèvre", "Müller", "Schäfer", "Kieffer", "Molitor", "Steichen", "Faber",
    "Nilles", "Kremer", "Goedert", "Schiltz", "Peiffer", "Weis", "Köhler", "Lambert",
)

COMPANIES = (
    "Schmit & Fils S.à r.l.", "Boulangerie Jos Thill", "Café de la Gare", "Atelier Nord SA",
    "Kueb Consulting", "Épicerie Fine Reuter",
)

STREETS = (
    "Rue de la Gare", "Grand-Rue", "Avenue de la Liberté", "Boulevard Royal",
    "Rue du Fossé", "Hauptstraße", "Route d'Arlon", "Rue de Strasbourg", "Kirchgaass",
    "Rue des Près", "Am Becheler", "Rue Notre-Dame", "Schlossstraße", "Rue Émile Mayrisch",
)

# iso -> (country name, cities, zip-code digits, zip-code suffix, phone prefix,
# locale weights). Locale weights are cumulative over (en, fr, de) and describe which
# language buyers from that country shop in.
COUNTRIES = {
    "LU": ("Luxembourg", ("Luxembourg", "Esch-sur-Alzette", "Differdange", "Dudelange",
                          "Ettelbruck", "Diekirch", "Wiltz", "Echternach", "Mersch", "Remich"),
           4, "", "+352 691", (0.2, 0.65, 1.0)),
    "FR": ("France", ("Metz", "Thionville", "Nancy", "Paris", "Lyon", "Strasbourg", "Longwy"),
           5, "", "+33 6", (0.05, 1.0, 1.0)),
    "DE": ("Germany", ("Trier", "Saarbrücken", "Köln", "München", "Berlin", "Bitburg"),
           5, "", "+49 151", (0.05, 0.05, 1.0)),
    "BE": ("Belgium", ("Arlon", "Liège", "Bruxelles", "Bastogne", "Namur"),
           4, "", "+32 470", (0.3, 1.0, 1.0)),
    "NL": ("Netherlands", ("Amsterdam", "Maastricht", "Utrecht"),
           4, " AB", "+31 6", (1.0, 1.0, 1.0)),
}

# Cumulative shares of buyers per country: mostly Luxembourg and its neighbours.
COUNTRY_SHARES = (("LU", 0.55), ("FR", 0.75), ("DE", 0.90), ("BE", 0.98), ("NL", 1.0))

EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
