from django.urls import path

from search import fetch_views, views

app_name = "search"

urlpatterns = [
    path("", views.home, name="home"),
    path("sessions/", views.sessions, name="sessions"),
    path("sessions/<int:session_id>/", views.session_detail, name="session"),
    path("sessions/<int:session_id>/rename/", views.session_rename_view, name="session_rename"),
    path("sessions/<int:session_id>/delete/", views.session_delete_view, name="session_delete"),
    path("fetch/", fetch_views.fetch, name="fetch"),
    path("fetch/jobs/<int:job_id>/", fetch_views.fetch_job, name="fetch_job"),
    path("fetch/jobs/<int:job_id>/cancel/", fetch_views.fetch_job_cancel, name="fetch_job_cancel"),
    path("images/<int:image_id>/thumbnail/", views.thumbnail, name="thumbnail"),
    path("images/<int:image_id>/original/", views.original, name="original"),
    path("images/<int:image_id>/download/", views.download, name="download"),
    path("images/download.zip", views.download_zip, name="download_zip"),
]
