from django.urls import path

from search.views import fetch, files, sessions, uploads

app_name = "search"

urlpatterns = [
    path("", sessions.home, name="home"),
    path("sessions/", sessions.sessions, name="sessions"),
    path("sessions/<int:session_id>/", sessions.session_detail, name="session"),
    path("sessions/<int:session_id>/rename/", sessions.session_rename_view, name="session_rename"),
    path("sessions/<int:session_id>/delete/", sessions.session_delete_view, name="session_delete"),
    path("upload/", uploads.upload, name="upload"),
    path("sessions/<int:session_id>/turns/<int:position>/more/", sessions.turn_more, name="turn_more"),
    path("sessions/<int:session_id>/query-images/<int:query_image_id>/", sessions.query_image, name="query_image"),
    path("fetch/", fetch.fetch, name="fetch"),
    path("fetch/jobs/<int:job_id>/", fetch.fetch_job, name="fetch_job"),
    path("fetch/jobs/<int:job_id>/cancel/", fetch.fetch_job_cancel, name="fetch_job_cancel"),
    path("images/<int:image_id>/thumbnail/", files.thumbnail, name="thumbnail"),
    path("images/<int:image_id>/original/", files.original, name="original"),
    path("images/<int:image_id>/download/", files.download, name="download"),
    path("images/download.zip", files.download_zip, name="download_zip"),
]
