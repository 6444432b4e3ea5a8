"""The JSON API of the registry core (/api/v1/): its views, serializers and the pieces
every app's API shares (errors, authentication, pagination, idempotency, schema)."""
