"""The ``soundcharts`` command's exit codes, in one place (the README's command-line section says what each means)."""

EXIT_OK = 0
EXIT_FAILED = 1  # a job failed, a check found problems, the system is unhealthy
EXIT_UNHEALTHY = EXIT_FAILED
EXIT_USAGE = 2  # bad input: one line on stderr, nothing done
EXIT_LOCKED = 3  # the job is already running
