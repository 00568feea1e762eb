"""Fixed reference data: platforms (and which lists they belong to) and countries."""

from __future__ import annotations

# code -> display name; the order is the order served by /api/v2/referential/platforms.
PLATFORMS: dict[str, str] = {
    "spotify": "Spotify",
    "apple-music": "Apple Music",
    "deezer": "Deezer",
    "youtube": "YouTube",
    "youtube-artist": "YouTube Artist",
    "tiktok": "TikTok",
    "shazam": "Shazam",
    "instagram": "Instagram",
    "soundcloud": "SoundCloud",
    "airplay": "Airplay",
    "amazon": "Amazon",
    "tidal": "Tidal",
    "audiomack": "Audiomack",
    "boomplay": "Boomplay",
    "facebook": "Facebook",
    "twitter": "Twitter",
    "genius": "Genius",
    "line-music": "Line Music",
    "melon": "Melon",
    "pandora": "Pandora",
}

# Platforms whose song audience is served (/song/{uuid}/audience/{platform}) = the "social" list.
AUDIENCE_PLATFORMS = ("spotify", "youtube", "shazam", "tiktok", "soundcloud", "instagram")
POPULARITY_PLATFORMS = ("spotify", "deezer", "tidal")
STREAMING_PLATFORMS = ("spotify", "apple-music", "deezer", "youtube", "amazon", "tidal", "soundcloud",
                       "audiomack", "boomplay", "pandora", "line-music", "melon")
CHART_PLATFORMS = ("spotify", "apple-music", "deezer", "youtube", "shazam", "tiktok", "soundcloud", "airplay")

PLATFORM_LISTS: dict[str, tuple[str, ...]] = {
    "all": tuple(PLATFORMS),
    "social": AUDIENCE_PLATFORMS,
    "streaming": STREAMING_PLATFORMS,
    "chart": CHART_PLATFORMS,
}

COUNTRIES: dict[str, str] = {
    "US": "United States",
    "GB": "United Kingdom",
    "FR": "France",
    "DE": "Germany",
    "BR": "Brazil",
    "JP": "Japan",
    "ES": "Spain",
    "MX": "Mexico",
    "KR": "South Korea",
    "SE": "Sweden",
    "IT": "Italy",
    "CA": "Canada",
}


def platform_items(kind: str) -> list[dict]:
    """``{code, name}`` items of one platform list ("all", "social", "streaming", "chart")."""
    return [{"code": code, "name": PLATFORMS[code]} for code in PLATFORM_LISTS[kind]]
