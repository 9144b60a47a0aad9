"""The static files storage for collected files (production, and the demo).

whitenoise's CompressedManifestStaticFilesStorage: ``collectstatic`` writes each file
under a name with its content's hash, with gzip and brotli copies next to it, and
whitenoise serves the smallest the browser accepts, cached for ever (the name changes
with the content). Django gives the hashed names in ``{% static %}`` only with DEBUG
off; this storage gives them with DEBUG on too, so the demo (DEBUG on, collected
files: scripts/demo-serve.sh) loads its pages the way production does.
"""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class CollectedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def url(self, name, force=False):
        return super().url(name, force=True)
