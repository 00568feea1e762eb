"""Every read: analytics, trends, movers, lift, markets, quality, health, quota, exports, and the viewers' and
the admin's page data."""
