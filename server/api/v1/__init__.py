"""The platform API, /v1: resource paths, plain JSON in and out, `{error, message, details}` errors,
bearer tokens and API keys, and the plan's request quota on every answer (README.md, "Platform API")."""
