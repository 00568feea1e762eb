"""Every write: chart sync, audience, metadata, maintenance, backup, the notebook runner, the job lock and
the admin actions.

Each job is a function of ``(settings, params)`` returning a :class:`~soundcharts_lib.jobs.result.RunResult` and
raising :class:`~soundcharts_lib.jobs.result.JobFailed` (see :mod:`soundcharts_lib.jobs.result`)."""
