"""Static files: hashed and compressed once collected, and never a 500 when they are not."""

from __future__ import annotations

import logging

from django.contrib.staticfiles import finders
from django.core.files.storage import FileSystemStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Whitenoise's storage; a file missing from the manifest gets its plain URL, not an error.

    Without this, a page referring to a file that `collectstatic` has not seen yet (a fresh
    install, a new file after an update) answers 500. The plain URL is still served, because
    whitenoise also serves files from the finders (settings.WHITENOISE_USE_FINDERS).

    Only a real file is worth a warning: at each worker's start WhiteNoise asks for the URL of
    names that are no file at all (it takes the ".d" of chart.js's "core.controller.d.ts" for a
    hash and asks for "core.controller.ts"), which printed hundreds of lines telling people to
    run a collectstatic they had already run.
    """

    def url(self, name: str | None, force: bool = False) -> str:
        try:
            return super().url(name, force)
        except ValueError:
            if name and finders.find(name):
                logger.warning(
                    "static file %r is not collected yet: run `confiance collectstatic`", name
                )
            return FileSystemStorage.url(self, name)
