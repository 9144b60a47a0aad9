"""Several hosts: uploads in an S3-compatible bucket (UPLOAD_STORAGE=s3, django-storages).

The bucket is served over real HTTP on loopback by moto's S3 server; the settings are
built from the environment exactly as in production (thalimon/settings.py is read again
in a separate process to check the selection), and the upload goes from the web view to
the bucket and from the bucket to the worker's import."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from patients.models import Patient
from reports.models import ImportJob
from tests.reports.test_import_pipeline import _zip_bytes

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def s3_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


S3_ENV = {"UPLOAD_STORAGE": "s3", "S3_BUCKET": "clinic-uploads", "S3_REGION": "eu-west-1",
          "S3_ACCESS_KEY_ID": "test-key", "S3_SECRET_ACCESS_KEY": "test-secret"}


def _settings_storage(env):
    code = ("import json, django; from django.conf import settings; django.setup(); "
            "print(json.dumps(settings.STORAGES['default']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "thalimon.settings", **env})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_setting_selects_s3_or_the_shared_folder():
    s3 = _settings_storage({**S3_ENV, "S3_ENDPOINT_URL": "http://minio.internal:9000"})
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    options = s3["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["default_acl"]) == (
        "clinic-uploads", "http://minio.internal:9000", "private")
    folder = _settings_storage({"UPLOAD_STORAGE": "filesystem", "MEDIA_ROOT": "/data/uploads"})
    assert folder["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    wrong = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, capture_output=True,
                           text=True, env={**os.environ, "DJANGO_SETTINGS_MODULE": "thalimon.settings",
                                           "UPLOAD_STORAGE": "ftp"})
    assert wrong.returncode != 0 and "UPLOAD_STORAGE: choose filesystem or s3" in wrong.stderr


def test_an_upload_goes_through_the_bucket_to_the_import(
    s3_server, settings, client, clinic_lead, django_capture_on_commit_callbacks
):
    import boto3

    options = {"bucket_name": "clinic-uploads", "endpoint_url": s3_server, "region_name": "eu-west-1",
               "access_key": "test-key", "secret_key": "test-secret", "location": "thalimon",
               "default_acl": "private", "querystring_auth": True, "file_overwrite": False}
    s3 = boto3.client("s3", endpoint_url=s3_server, region_name="eu-west-1",
                      aws_access_key_id="test-key", aws_secret_access_key="test-secret")
    s3.create_bucket(Bucket="clinic-uploads", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage",
                                                          "OPTIONS": options}}
    settings.MEDIA_ROOT = "/nonexistent"  # nothing may touch a local folder
    client.force_login(clinic_lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:upload"),
                               {"datasheet": SimpleUploadedFile("cohort.zip", _zip_bytes())})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket="clinic-uploads").get("Contents", [])]
    assert keys == [f"thalimon/{job.file.name}"]  # in the bucket, under the prefix
    assert job.state == ImportJob.State.DONE and Patient.objects.count() == 4
