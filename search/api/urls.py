from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from search.api import images, jobs, search, sessions, system

app_name = "api"

urlpatterns = [
    path("search/", search.SearchApi.as_view(), name="search"),
    path("search/captions/", search.CaptionSearchApi.as_view(), name="search_captions"),
    path("encode/text/", search.EncodeTextApi.as_view(), name="encode_text"),
    path("encode/image/", search.EncodeImageApi.as_view(), name="encode_image"),
    path("images/", images.ImageListApi.as_view(), name="image_list"),
    path("images/<int:image_id>/", images.ImageDetailApi.as_view(), name="image_detail"),
    path("images/<int:image_id>/download/", images.ImageDownloadApi.as_view(), name="image_download"),
    path("jobs/<int:job_id>/", jobs.JobDetailApi.as_view(), name="job_detail"),
    path("sessions/", sessions.SessionCreateApi.as_view(), name="session_create"),
    path("sessions/<int:session_id>/", sessions.SessionDetailApi.as_view(), name="session_detail"),
    path("sessions/<int:session_id>/turns/", sessions.TurnCreateApi.as_view(), name="turn_create"),
    path("health/", system.HealthApi.as_view(), name="health"),
    path("stats/", system.StatsApi.as_view(), name="stats"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"", system.NotFoundApi.as_view(), name="not_found"),
]
