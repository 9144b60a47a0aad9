"""Serve plotly.js from the installed `plotly` Python package.

The browser charts must use the same plotly.js that the Python figure
builders were written against, and clinics run on closed networks (no CDN).
Rather than committing a 4.6 MB copy, this finder exposes exactly one file of
the package as ``vendor/plotly/plotly.min.js``.
"""

from pathlib import Path

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

STATIC_PATH = "vendor/plotly/plotly.min.js"


def _package_file():
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


class PlotlyFinder(BaseFinder):
    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path != STATIC_PATH:
            return [] if find_all else None
        found = str(_package_file())
        return [found] if find_all else found

    def list(self, ignore_patterns):
        folder = _package_file().parent
        storage = FileSystemStorage(location=str(folder))
        storage.prefix = "vendor/plotly"
        yield "plotly.min.js", storage
