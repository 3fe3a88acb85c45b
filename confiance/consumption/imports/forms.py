"""The upload form of the CSV import: it parses; the service validates the rows."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

FORMAT_CHOICES = [
    ("auto", _("Recognise it from the columns")),
    ("kimai", "Kimai"),
    ("toggl", "Toggl Track"),
    ("harvest", "Harvest"),
    ("generic", _("Generic format (described below)")),
]


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    source_format = forms.ChoiceField(
        label=_("Format"), choices=FORMAT_CHOICES, initial="auto", required=False
    )

    def clean_source_format(self) -> str:
        return self.cleaned_data.get("source_format") or "auto"
