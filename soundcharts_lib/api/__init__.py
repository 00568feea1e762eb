"""The SoundCharts client, its payload records and rate limiter: the only room that speaks HTTP."""
