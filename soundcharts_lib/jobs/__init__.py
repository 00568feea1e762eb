"""Every write: chart sync, audience, metadata, maintenance, backup, the notebook runner, the job lock and
the admin actions."""
