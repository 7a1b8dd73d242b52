"""The REST API v1 (django-ninja) under /api/v1/, with its OpenAPI schema at
/api/v1/openapi.json and a docs page at /api/v1/docs. It sits above every app it serves
(accounts, health, the workflow), next to the project's URLs. docs/api.md describes it."""
