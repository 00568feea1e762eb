"""The ``soundcharts`` command, one module per command group."""
