"""Staff pages of this app."""

urlpatterns: list = []
