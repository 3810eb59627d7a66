"""Images in the admin: thumbnails, similar images, caption history, near-duplicates, and the curators' actions.

Admin classes translate and report; the changes themselves are services (search.services.curation, images,
captions, reindex). Every change is written to Django's admin log (LogEntry), so the history page of an image shows
who did what.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from search.files import file_response
from search.models import CaptionRevision, Image
from search.selectors.duplicates import find_duplicates
from search.services import curation
from search.services.captions import captions_queue
from search.services.images import image_delete
from search.services.reindex import images_embed_queue

EDITABLE = ("caption", "category", "hidden")


class HasCaptionFilter(admin.SimpleListFilter):
    title = "has caption"
    parameter_name = "has_caption"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(caption="")
        if self.value() == "no":
            return queryset.filter(caption="")
        return queryset


class CategoryForm(forms.Form):
    category = forms.CharField(
        max_length=curation.CATEGORY_MAX_LENGTH, required=False, help_text="Leave blank to clear the category."
    )


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["thumb", "original_name", "short_caption", "category", "source", "size", "hidden", "created_at"]
    list_display_links = ["thumb", "original_name"]
    list_filter = [
        "source",
        "category",
        "hidden",
        HasCaptionFilter,
        "caption_curated",
        ("vector__embedding_model", admin.AllValuesFieldListFilter),
    ]
    search_fields = ["caption", "original_name", "source_url"]
    list_per_page = 50
    date_hierarchy = "created_at"
    actions = ["hide", "unhide", "set_category", "re_embed", "re_caption", "delete_selected"]
    fieldsets = [
        (None, {"fields": ["preview", "caption", "category", "hidden"]}),
        ("Caption", {"fields": ["caption_curated", "caption_model", "caption_embedding_model"]}),
        (
            "File",
            {"fields": ["original_name", "sha256", "format", "size", "byte_size", "file", "thumbnail"]},
        ),
        ("Origin", {"fields": ["source", "source_url", "added_by", "embedding_model", "created_at", "updated_at"]}),
    ]
    readonly_fields = [
        "preview",
        "caption_curated",
        "caption_model",
        "caption_embedding_model",
        "original_name",
        "sha256",
        "format",
        "size",
        "byte_size",
        "file",
        "thumbnail",
        "source",
        "source_url",
        "added_by",
        "embedding_model",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("caption_embedding")

    def has_add_permission(self, request):
        return False  # images arrive through ingest, upload and fetch, which read, check and embed them

    # --- list columns and read-only fields ---

    @admin.display(description="")
    def thumb(self, image: Image) -> str:
        url = reverse("admin:search_image_thumbnail", args=[image.id])
        return format_html('<img src="{}" alt="" loading="lazy" style="max-height:64px;max-width:96px">', url)

    @admin.display(description="caption")
    def short_caption(self, image: Image) -> str:
        return image.caption if len(image.caption) <= 80 else image.caption[:79] + "…"

    @admin.display(description="size", ordering="width")
    def size(self, image: Image) -> str:
        return f"{image.width} x {image.height}"

    @admin.display(description="image")
    def preview(self, image: Image) -> str:
        url = reverse("admin:search_image_original", args=[image.id])
        return format_html('<a href="{0}"><img src="{0}" alt="" style="max-width:100%;max-height:480px"></a>', url)

    # --- saving and deleting ---

    def save_model(self, request, obj, form, change):
        # The form edits caption, category and hidden only (images are never added here): the curation service
        # makes an edited caption curated with a revision, and invalidates cached result pages.
        changes = {name: form.cleaned_data[name] for name in EDITABLE if name in form.changed_data}
        curation.image_update(image=Image.objects.get(pk=obj.pk), user=request.user, **changes)
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        image_delete(image=obj)

    def delete_queryset(self, request, queryset):
        for image in queryset:
            image_delete(image=image)

    # --- the change page: similar images and caption history ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        image = self.get_object(request, object_id)
        if image is not None:
            extra_context = {
                **(extra_context or {}),
                "similar_images": self._similar(image),
                "caption_revisions": image.caption_revisions.select_related("created_by")[:50],
                "can_change_image": self.has_change_permission(request, image),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def _similar(self, image: Image) -> list[tuple[Image, float]]:
        vector = getattr(image, "vector", None)  # a reverse one-to-one raises an AttributeError when there is none
        if vector is None or not settings.ADMIN_SIMILAR_IMAGES:
            return []
        nearest = Image.objects.exclude(id=image.id).nearest(
            vector.embedding, model_key=vector.embedding_model, limit=settings.ADMIN_SIMILAR_IMAGES
        )
        return [(other, 1.0 - other.distance) for other in nearest]

    # --- actions ---

    @admin.action(description="Hide selected images from search", permissions=["change"])
    def hide(self, request, queryset):
        changed = curation.images_set_hidden(image_ids=queryset.values_list("id", flat=True), hidden=True)
        self._log(request, changed, "Hidden from search.")
        self.message_user(request, f"Hid {len(changed)} images; they no longer appear in any search.")

    @admin.action(description="Unhide selected images", permissions=["change"])
    def unhide(self, request, queryset):
        changed = curation.images_set_hidden(image_ids=queryset.values_list("id", flat=True), hidden=False)
        self._log(request, changed, "Shown in search again.")
        self.message_user(request, f"{len(changed)} images are searchable again.")

    @admin.action(description="Set the category of selected images", permissions=["change"])
    def set_category(self, request, queryset):
        form = CategoryForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            category = form.cleaned_data["category"]
            ids = list(queryset.values_list("id", flat=True))
            updated = curation.images_set_category(image_ids=ids, category=category)
            self._log(request, ids, f"Category set to “{category}”." if category else "Category cleared.")
            self.message_user(request, f"Set the category of {updated} images to “{category}”.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Set the category",
            "opts": self.model._meta,
            "form": form,
            "images": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/search/image/set_category.html", context)

    @admin.action(description="Re-embed selected images (background task)", permissions=["change"])
    def re_embed(self, request, queryset):
        ids = list(queryset.values_list("id", flat=True))
        images_embed_queue(ids)
        self._log(request, ids, "Queued for re-embedding.")
        self.message_user(request, f"Queued {len(ids)} images for re-embedding.")

    @admin.action(description="Re-caption selected images (background task)", permissions=["change"])
    def re_caption(self, request, queryset):
        # Curated captions are kept by the captioner; only the others are written again.
        ids = list(queryset.filter(caption_curated=False).values_list("id", flat=True))
        captions_queue(ids)
        self._log(request, ids, "Queued for captioning.")
        skipped = queryset.count() - len(ids)
        self.message_user(request, f"Queued {len(ids)} images for captioning ({skipped} with curated captions kept).")

    def _log(self, request: HttpRequest, image_ids, message: str) -> None:
        images = Image.objects.filter(id__in=list(image_ids)).only("id", "original_name", "sha256")
        LogEntry.objects.log_actions(
            user_id=request.user.pk, queryset=images, action_flag=CHANGE, change_message=message
        )

    # --- extra pages: files, caption restore, near-duplicates ---

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:image_id>/thumbnail/", wrap(self.thumbnail_view), name="search_image_thumbnail"),
            path("<int:image_id>/original/", wrap(self.original_view), name="search_image_original"),
            path(
                "<int:image_id>/captions/<int:revision_id>/restore/",
                wrap(self.caption_restore_view),
                name="search_image_caption_restore",
            ),
            path("duplicates/", wrap(self.duplicates_view), name="search_image_duplicates"),
            path("duplicates/resolve/", wrap(self.duplicates_resolve_view), name="search_image_duplicates_resolve"),
            *super().get_urls(),
        ]

    def thumbnail_view(self, request, image_id: int) -> FileResponse:
        return self._file(request, image_id, "thumbnail")

    def original_view(self, request, image_id: int) -> FileResponse:
        return self._file(request, image_id, "file")

    def _file(self, request, image_id: int, field: str) -> FileResponse:
        # Unlike the public file views these serve hidden images too: curators must see what they hid.
        if not self.has_view_permission(request):
            raise PermissionDenied
        field_file = getattr(get_object_or_404(Image, id=image_id), field)
        return file_response(field_file, cache="private, max-age=3600")

    @method_decorator(require_POST)
    def caption_restore_view(self, request, image_id: int, revision_id: int) -> HttpResponse:
        revision = get_object_or_404(CaptionRevision.objects.select_related("image"), id=revision_id, image_id=image_id)
        if not self.has_change_permission(request, revision.image):
            raise PermissionDenied
        curation.caption_revision_restore(revision=revision, user=request.user)
        self.log_change(request, revision.image, f"Caption restored from the revision of {revision.created_at:%c}.")
        self.message_user(request, "The earlier caption is the current one again.")
        return redirect("admin:search_image_change", image_id)

    def duplicates_view(self, request) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        threshold = _threshold(request.GET.get("threshold"))
        if threshold is None:
            self.message_user(request, "The threshold must be a number in (0, 1].", messages.ERROR)
            threshold = settings.DUPLICATE_THRESHOLD
        report = find_duplicates(threshold=threshold)
        context = {
            **self.admin_site.each_context(request),
            "title": "Near-duplicate images",
            "opts": self.model._meta,
            "report": report,
            "threshold": threshold,
            "can_change_image": self.has_change_permission(request),
        }
        return TemplateResponse(request, "admin/search/image/duplicates.html", context)

    @method_decorator(require_POST)
    def duplicates_resolve_view(self, request) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            keep = int(request.POST["keep"])
            group = [int(value) for value in request.POST.getlist("ids")]
        except (KeyError, ValueError):
            return HttpResponseBadRequest("Choose the image to keep of a listed group.")
        try:
            hidden = curation.duplicates_resolve(keep_id=keep, image_ids=group)
        except curation.CurationError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self._log(request, hidden, f"Hidden as a near-duplicate of image #{keep}.")
            self.message_user(request, f"Kept image #{keep} and hid {len(hidden)} near-duplicates.")
        url = reverse("admin:search_image_duplicates")
        threshold = _threshold(request.POST.get("threshold"))
        return redirect(f"{url}?threshold={threshold}" if threshold is not None else url)


def _threshold(value: str | None) -> float | None:
    if value in (None, ""):
        return settings.DUPLICATE_THRESHOLD
    try:
        threshold = float(value)
    except ValueError:
        return None
    return threshold if 0.0 < threshold <= 1.0 else None
