from django import forms
from django.conf import settings

from search.selectors import MAX_TOP_K


class SearchForm(forms.Form):
    q = forms.CharField(label="Describe it", required=False, max_length=1000)
    image = forms.FileField(label="…or give an example image", required=False)
    image_weight = forms.FloatField(min_value=0.0, max_value=1.0, required=False, label="Image weight")
    k = forms.IntegerField(min_value=1, max_value=MAX_TOP_K, required=False, label="Results")
    category = forms.CharField(required=False, max_length=100)
    min_score = forms.FloatField(min_value=0.0, max_value=1.0, required=False, label="Minimum score")

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if upload and upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(f"The image is larger than {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB.")
        return upload
