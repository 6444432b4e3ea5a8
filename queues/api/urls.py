"""API routes of this app, included under /api/v1/ by registry.api.urls."""

urlpatterns: list = []
