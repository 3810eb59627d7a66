from django.contrib import admin
from django.urls import include, path

from imagesearch.metrics import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/", include("search.api.urls")),
    path("metrics", metrics_view, name="metrics"),
    path("", include("search.urls")),
]

handler400 = "imagesearch.error_views.bad_request"
handler403 = "imagesearch.error_views.permission_denied"
handler404 = "imagesearch.error_views.page_not_found"
handler500 = "imagesearch.error_views.server_error"
