"""HTTP JSON endpoints for audience series, served on the dashboards' port (see :mod:`.app`).

    GET /soundcharts/audience/chart/{track_uuid}/{platform_slug}/
    GET /soundcharts/audience/chart/{track_uuid}/
    GET /soundcharts/openapi.json

The OpenAPI 3 document ``openapi.yaml`` beside this file describes them.
"""
