"""ipywidgets and bqplot builders for the Voila dashboards (unit-tested without a browser)."""
