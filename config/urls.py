from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from registry import views as registry_views


def healthz(request):
    return JsonResponse({"ok": True})


urlpatterns = [
    path("", registry_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # The API: the registry core's routes, then every app's.
    path("api/v1/", include("registry.api.urls")),
    path("api/v1/", include("registry.appointments.api.urls")),
    path("api/v1/", include("queues.api.urls")),
    path("api/v1/", include("registry.deliveries.api.urls")),
    path("api/v1/", include("complaints.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("staff/", include("registry.urls")),
    path("appointments/", include("registry.appointments.urls")),
    path("queues/", include("queues.urls")),
    path("deliveries/", include("registry.deliveries.urls")),
    path("complaints/", include("complaints.urls")),
    path("i18n/setlang/", registry_views.language_set, name="set_language"),
]

handler400 = "registry.views.error_400"
handler403 = "registry.views.error_403"
handler404 = "registry.views.error_404"
handler500 = "registry.views.error_500"
