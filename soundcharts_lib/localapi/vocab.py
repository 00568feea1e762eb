"""Word lists the catalog draws names from (per market, with some non-ASCII names on purpose)."""

from __future__ import annotations

# Market -> (share of the catalog, ISRC country codes)
MARKETS: dict[str, tuple[float, tuple[str, ...]]] = {
    "INT": (0.46, ("US", "GB", "CA", "SE")),
    "FR": (0.1, ("FR",)),
    "DE": (0.08, ("DE",)),
    "BR": (0.09, ("BR",)),
    "LATIN": (0.11, ("ES", "MX")),
    "JP": (0.08, ("JP",)),
    "KR": (0.08, ("KR",)),
}

# Artists that always exist (name, market): non-ASCII names exercise encodings end to end.
FIXED_ARTISTS = (
    ("Beyoncé", "INT"),
    ("BTS (방탄소년단)", "KR"),
    ("Rosalía", "LATIN"),
    ("Måneskin", "INT"),
    ("Chloé Mercier", "FR"),
    ("Jörg Weißmann", "DE"),
    ("João Gaspar", "BR"),
    ("Ayaka Yoshida (吉田彩花)", "JP"),
    ("Łukasz Wróbel", "INT"),
    ("Sigrún", "INT"),
)

FIRST_NAMES = {
    "INT": ("Ava", "Liam", "Maya", "Noah", "Ella", "Jack", "Chloe", "Owen", "Ruby", "Theo", "Iris", "Miles"),
    "FR": ("Léa", "Hugo", "Camille", "Louis", "Inès", "Jules", "Manon", "Théo"),
    "DE": ("Lena", "Jonas", "Mia", "Felix", "Hanna", "Lukas", "Sophie", "Paul"),
    "BR": ("Ana", "Pedro", "Luana", "Mateus", "Júlia", "Thiago", "Bia", "Caio"),
    "LATIN": ("Sofía", "Mateo", "Valeria", "Diego", "Lucía", "Andrés", "Camila", "Iñaki"),
    "JP": ("Yui", "Haruto", "Aoi", "Sora", "Rin", "Kaito", "Mei", "Riku"),
    "KR": ("Jisoo", "Minho", "Yuna", "Taeyang", "Seojin", "Hana", "Jiwoo", "Doyun"),
}
LAST_NAMES = {
    "INT": ("Carter", "Hayes", "Brooks", "Reed", "Monroe", "Quinn", "Lane", "Fox", "Sloane", "Vance"),
    "FR": ("Dubois", "Moreau", "Lefèvre", "Garnier", "Rousseau", "Faure"),
    "DE": ("Becker", "Krüger", "Wolf", "Hoffmann", "Schäfer", "Brandt"),
    "BR": ("Souza", "Lima", "Araújo", "Costa", "Ribeiro", "Alves"),
    "LATIN": ("García", "Núñez", "Ortega", "Ramírez", "Peña", "Vidal"),
    "JP": ("Sato", "Tanaka", "Kobayashi", "Mori", "Ishikawa", "Ueda"),
    "KR": ("Kim", "Park", "Lee", "Choi", "Jung", "Kang"),
}
BAND_WORDS = ("Neon", "Velvet", "Paper", "Golden", "Midnight", "Echo", "Silver", "Wild", "Glass", "Crystal",
              "Electric", "Lunar", "Static", "Honey", "Arctic", "Coral")
BAND_NOUNS = ("Tigers", "Rivers", "Hearts", "Saints", "Machines", "Wolves", "Lights", "Kites", "Poets",
              "Comets", "Engines", "Pilots")

TITLE_ADJ = ("Blue", "Broken", "Electric", "Golden", "Lonely", "Late", "Little", "Sweet", "Wild", "Cold",
             "Secret", "Endless", "Summer", "Paper", "Slow", "Bright", "Hollow", "Perfect", "Heavy", "Last")
TITLE_NOUN = ("Night", "Heart", "Fire", "River", "Dream", "Light", "Road", "City", "Rain", "Ocean", "Love",
              "Star", "Mirror", "Ghost", "Garden", "Motion", "Signal", "Echo", "Dance", "Shadow")
TITLE_FORMS = ("{a} {n}", "{n}", "{a} {n}s", "{n} of {n2}", "Into the {n}", "{a}", "{n} ({a} Remix)",
               "No More {n}s")
LOCAL_TITLES = {
    "FR": ("Déjà Vu", "Là-bas", "Ça ira", "Été indien", "Rêverie", "À jamais", "Cœur de verre", "Soirée"),
    "DE": ("Über den Wolken", "Träume", "Schön", "Märchen", "Grüße", "Weiß"),
    "BR": ("Coração", "Saudade", "Não vai", "Avião", "Lição", "Paixão"),
    "LATIN": ("Corazón", "Mañana", "Canción del mar", "Añoranza", "Pasión", "Bailaré"),
    "JP": ("夜の街", "桜の雨", "東京の夢", "青い春", "星空", "さよなら"),
    "KR": ("봄날의 꿈", "별빛", "사랑해", "Dynamite Heart", "서울의 밤", "너에게"),
}

GENRES = {
    "pop": ("dance pop", "electropop", "k-pop", "indie pop", "synth-pop"),
    "hip hop": ("trap", "boom bap", "drill", "french rap"),
    "latin": ("reggaeton", "latin pop", "bachata"),
    "electronic": ("house", "techno", "edm"),
    "rock": ("indie rock", "alternative rock", "pop rock"),
    "r&b": ("contemporary r&b", "neo soul"),
    "brazilian": ("sertanejo", "funk carioca", "mpb"),
    "j-pop": ("anime", "city pop"),
}
MARKET_GENRES = {
    "INT": ("pop", "hip hop", "electronic", "rock", "r&b"),
    "FR": ("pop", "hip hop", "electronic"),
    "DE": ("pop", "hip hop", "electronic", "rock"),
    "BR": ("brazilian", "pop"),
    "LATIN": ("latin", "pop"),
    "JP": ("j-pop", "pop", "rock"),
    "KR": ("pop", "r&b", "hip hop"),
}
LABELS = (("Universal Music", "Major"), ("Sony Music", "Major"), ("Warner Music", "Major"),
          ("XL Recordings", "Independent"), ("Because Music", "Independent"), ("Sub Pop", "Independent"),
          ("Big Hit Music", "Independent"), ("Avex", "Independent"), ("Som Livre", "Independent"),
          ("Rimas Entertainment", "Independent"))

# Untidy names (see untidy.py): right-to-left titles and names (Arabic, Hebrew, one mixed), emoji sequences
# (a skin-tone modifier, ZWJ sequences, a flag).
RTL_NAMES = ("ليلة في القاهرة", "قلبي معك", "فرقة النجوم", "שיר של אהבה", "הלילה הזה", "להקת הכוכבים",
             "Yasmin ياسمين (Remix)", "נועה & שירה")
EMOJI = ("🔥", "🎶✨", "💔", "👑🏽", "🏳️‍🌈", "👩‍🎤", "🇧🇷")
