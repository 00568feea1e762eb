"""Every read: analytics, trends, movers, lift, markets, quality, health, quota, exports, the viewers' and admin's page data."""
