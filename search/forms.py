import datetime as dt

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator

from search.errors import InvalidQuery
from search.files import DOWNLOAD_FORMATS
from search.query import MAX_TEXT_LENGTH, MAX_TOP_K, PhotoFilters
from search.services.fetch import MAX_QUERY_LENGTH


class _ImageUploadField(forms.FileField):
    """A file upload, refused above UPLOAD_MAX_BYTES before anything reads it; its content is checked later."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload and upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(f"The image is larger than {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB.")
        return upload


class SearchForm(forms.Form):
    """The first turn of a new session: a description, an example image, or both."""

    q = forms.CharField(label="Describe it", required=False, max_length=MAX_TEXT_LENGTH)
    image = _ImageUploadField(label="…or give an example image", required=False)
    image_weight = forms.FloatField(min_value=0.0, max_value=1.0, required=False, label="Image weight")
    k = forms.IntegerField(min_value=1, max_value=MAX_TOP_K, required=False, label="Results")
    hybrid = forms.BooleanField(required=False, label="Also match the words in captions and file names")
    taken_after = forms.DateField(required=False, label="Taken from", widget=forms.DateInput(attrs={"type": "date"}))
    taken_before = forms.DateField(required=False, label="to", widget=forms.DateInput(attrs={"type": "date"}))
    camera = forms.CharField(required=False, max_length=100, label="Camera")
    has_location = forms.TypedChoiceField(
        required=False,
        label="Place",
        choices=[("", "any"), ("yes", "with a location"), ("no", "without")],
        coerce=lambda value: value == "yes",
        empty_value=None,
    )

    def clean(self):
        data = super().clean()
        if not self.errors and not (data.get("q") or "").strip() and not data.get("image"):
            raise forms.ValidationError("Describe what you are looking for, give an example image, or both.")
        if not self.errors:
            try:
                data["photo"] = PhotoFilters(
                    taken_after=_day_start(data.get("taken_after")),
                    taken_before=_day_end(data.get("taken_before")),
                    camera=data.get("camera") or "",
                    has_location=data.get("has_location"),
                )
            except InvalidQuery as error:
                raise forms.ValidationError(error.message) from None
        return data


def _day_start(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) if day else None


def _day_end(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC) if day else None


class _IdListField(forms.Field):
    """Repeated ids (checkboxes with one name): a list of positive integers."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        try:
            ids = [int(item) for item in value]
        except (TypeError, ValueError):
            raise forms.ValidationError("Image ids must be whole numbers.") from None
        if any(item <= 0 for item in ids):
            raise forms.ValidationError("Image ids must be positive.")
        return ids


class RefineForm(forms.Form):
    """A refinement turn posted without the websocket (the same fields the page sends over it)."""

    parent = forms.IntegerField(required=False, min_value=1)
    key = forms.RegexField(required=False, max_length=64, regex=r"^[A-Za-z0-9_-]*$", widget=forms.HiddenInput)
    feedback = forms.CharField(required=False, max_length=MAX_TEXT_LENGTH)
    text = forms.CharField(required=False, max_length=MAX_TEXT_LENGTH, label="New description")
    image = _ImageUploadField(required=False, label="New example image")
    query_image = forms.IntegerField(required=False, min_value=1)  # an example image of this session, again
    image_weight = forms.FloatField(min_value=0.0, max_value=1.0, required=False)
    relevant = _IdListField(required=False)
    not_relevant = _IdListField(required=False)
    more_like = forms.IntegerField(required=False, min_value=1)
    show_judged = forms.BooleanField(required=False)
    k = forms.IntegerField(min_value=1, max_value=MAX_TOP_K, required=False)
    alpha = forms.FloatField(min_value=0.0, max_value=5.0, required=False)
    beta = forms.FloatField(min_value=0.0, max_value=5.0, required=False)
    gamma = forms.FloatField(min_value=0.0, max_value=5.0, required=False)
    feedback_weight = forms.FloatField(min_value=0.0, max_value=5.0, required=False)
    negative_weight = forms.FloatField(min_value=0.0, max_value=5.0, required=False)

    def weights(self) -> dict[str, float]:
        names = {"alpha": "alpha", "beta": "beta", "gamma": "gamma", "feedback_weight": "feedback"}
        names["negative_weight"] = "negative"
        data = self.cleaned_data
        return {weight: data[field] for field, weight in names.items() if data.get(field) is not None}


class RenameForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)


FORMAT_LABELS = {"original": "Original file", "jpeg": "JPEG"}


class DownloadForm(forms.Form):
    format = forms.ChoiceField(choices=[(name, FORMAT_LABELS[name]) for name in DOWNLOAD_FORMATS], required=False)

    def clean_format(self):
        return self.cleaned_data.get("format") or "original"


NOTHING_SELECTED = "Select at least one image to download: tick the pictures you want, then press Download."


class ZipDownloadForm(DownloadForm):
    ids = _IdListField(error_messages={"required": NOTHING_SELECTED})

    def clean_ids(self):
        ids = list(dict.fromkeys(self.cleaned_data["ids"]))
        if not ids:
            raise forms.ValidationError(NOTHING_SELECTED)
        if len(ids) > settings.DOWNLOAD_ZIP_MAX_IMAGES:
            raise forms.ValidationError(f"Download at most {settings.DOWNLOAD_ZIP_MAX_IMAGES} images at once.")
        return ids


class FetchJobForm(forms.Form):
    """What a web fetch needs, on the fetch page and in the admin alike (fetch_job_create checks it again)."""

    query = forms.CharField(max_length=MAX_QUERY_LENGTH)
    count = forms.IntegerField(min_value=1, initial=20, label="Images")
    category = forms.CharField(max_length=100, required=False, help_text="Leave blank to use the query.")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Read per form, not at import, so a changed FETCH_MAX_COUNT (tests, settings reload) is honoured.
        self.fields["count"].max_value = settings.FETCH_MAX_COUNT
        self.fields["count"].validators.append(MaxValueValidator(settings.FETCH_MAX_COUNT))
