"""scripts/backup and scripts/restore, run as an operator runs them: a real PostgreSQL
database with rows and a media store with files (a local folder, and S3 on moto's server)
backed up, restored into an empty database and store, and compared table by table and
byte by byte. A restore refuses a target that is not empty and a backup that does not
check out, and changes nothing then."""

import json
import os
import subprocess

import boto3
import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.test import Client
from moto.server import ThreadedMotoServer

from catalog.models import Lesson, LessonCaption
from tests.enrollment.helpers import enroll, guest_body
from tests.factories import make_course, make_user
from tests.live import ROOT, test_database_url

pytestmark = pytest.mark.django_db(transaction=True)

VIDEO = bytes(range(256)) * 4096  # 1 MiB, every byte value
CAPTIONS = "WEBVTT\n\n00:00.000 --> 00:01.000\nHello, world, ¡hola! ½\n".encode()


def run_script(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / "scripts" / name), *args],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def admin_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


@pytest.fixture
def restore_database():
    """An empty database beside the test database, dropped afterwards."""
    source = test_database_url()
    name = f"{connection.settings_dict['NAME']}_restore"
    with psycopg.connect(admin_url(source), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield source.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin_url(source), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def table_digests(url: str) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows, in primary-key-free order."""
    with psycopg.connect(url) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        digests = {}
        for table in tables:
            count, digest = db.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"  # noqa: S608 - names from pg_tables
            ).fetchone()
            digests[table] = (count, digest)
    return digests


def portal_data() -> dict[str, bytes]:
    """Rows in most tables (accounts, catalog, enrollments, payments, outbox) and lesson
    files through the configured storage; returns the files by name."""
    make_user(email="keeper@example.com", name="Kim Keeper")
    course = make_course(
        title="Backups for Everyone", price="49.00", modules=1, lessons_per_module=2
    )
    free = make_course(title="Restores", modules=1, lessons_per_module=1)
    assert enroll(Client(), guest_body(course, "ada@example.com")).status_code == 201
    assert enroll(Client(), guest_body(free, "grace@example.com")).status_code == 201
    storage = storages["default"]
    lesson = Lesson.objects.filter(module__course=course).order_by("position").first()
    lesson.kind = "video"
    lesson.media = storage.save(f"lessons/{lesson.id}/video.mp4", ContentFile(VIDEO))
    lesson.media_content_type = "video/mp4"
    lesson.save(update_fields=["kind", "media", "media_content_type"])
    captions = LessonCaption.objects.create(
        lesson=lesson,
        lang="en",
        label="English",
        file=storage.save(f"lessons/{lesson.id}/en.vtt", ContentFile(CAPTIONS)),
    )
    return {lesson.media.name: VIDEO, captions.file.name: CAPTIONS}


def test_a_backup_restores_into_an_empty_database_and_media_folder(
    tmp_path, settings, restore_database
):
    source_media = tmp_path / "media-source"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "catalog.media.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": source_media},
        },
    }
    files = portal_data()
    source = test_database_url()

    made = run_script(
        "backup",
        str(tmp_path / "backups"),
        env={"DATABASE_URL": source, "MEDIA_ROOT": str(source_media)},
    )
    assert made.returncode == 0, made.stderr
    [folder] = (tmp_path / "backups").iterdir()
    assert folder.name.startswith("portal-")
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {item["name"] for item in manifest["media"]["files"]} == set(files)
    assert "postgres:postgres" not in (folder / "manifest.json").read_text()

    target_media = tmp_path / "media-restored"
    restored = run_script(
        "restore",
        str(folder),
        env={"DATABASE_URL": restore_database, "MEDIA_ROOT": str(target_media)},
    )
    assert restored.returncode == 0, restored.stderr
    assert "search_rebuild" in restored.stdout

    before, after = table_digests(source), table_digests(restore_database)
    assert after == before
    assert before["enrollment_enrollment"][0] == 2
    assert before["enrollment_payment"][0] == 1
    assert before["catalog_lesson"][0] == 3
    for name, content in files.items():
        assert (target_media / name).read_bytes() == content

    # Again into what is now a full database: refused, nothing touched.
    again = run_script(
        "restore",
        str(folder),
        env={"DATABASE_URL": restore_database, "MEDIA_ROOT": str(tmp_path / "media-empty")},
    )
    assert again.returncode == 2
    assert "not empty" in again.stderr
    assert table_digests(restore_database) == before
    assert not (tmp_path / "media-empty").exists()


def test_a_restore_refuses_a_media_store_that_has_files(tmp_path, settings, restore_database):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "catalog.media.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media-source"},
        },
    }
    portal_data()
    made = run_script(
        "backup",
        str(tmp_path / "backups"),
        env={"DATABASE_URL": test_database_url(), "MEDIA_ROOT": str(tmp_path / "media-source")},
    )
    assert made.returncode == 0, made.stderr
    [folder] = (tmp_path / "backups").iterdir()
    occupied = tmp_path / "occupied"
    (occupied / "lessons").mkdir(parents=True)
    (occupied / "lessons" / "other.mp4").write_bytes(b"someone else's")
    refused = run_script(
        "restore", str(folder), env={"DATABASE_URL": restore_database, "MEDIA_ROOT": str(occupied)}
    )
    assert refused.returncode == 2
    assert "media store is not empty" in refused.stderr
    assert table_digests(restore_database) == {}


def test_a_damaged_backup_is_refused_before_anything_is_written(
    tmp_path, settings, restore_database
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "catalog.media.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media-source"},
        },
    }
    portal_data()
    made = run_script(
        "backup",
        str(tmp_path / "backups"),
        env={"DATABASE_URL": test_database_url(), "MEDIA_ROOT": str(tmp_path / "media-source")},
    )
    assert made.returncode == 0, made.stderr
    [folder] = (tmp_path / "backups").iterdir()
    dump = folder / "database.dump"
    damaged = bytearray(dump.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    dump.write_bytes(bytes(damaged))
    refused = run_script(
        "restore",
        str(folder),
        env={"DATABASE_URL": restore_database, "MEDIA_ROOT": str(tmp_path / "media-restored")},
    )
    assert refused.returncode == 2
    assert "checksum" in refused.stderr
    assert table_digests(restore_database) == {}
    assert not (tmp_path / "media-restored").exists()


@pytest.fixture
def s3():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    for bucket in ("media-live", "media-restored"):
        client.create_bucket(Bucket=bucket)
    yield endpoint, client
    server.stop()


def s3_env(endpoint: str, bucket: str) -> dict[str, str]:
    """What a deployment on S3 sets (portal/settings.py reads these)."""
    return {
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_S3_REGION_NAME": "us-east-1",
        "AWS_S3_ADDRESSING_STYLE": "path",
    }


def test_a_backup_of_an_s3_media_store_restores_into_another_bucket(
    tmp_path, settings, s3, restore_database
):
    endpoint, client = s3
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "media-live",
                "endpoint_url": endpoint,
                "access_key": "testing",
                "secret_key": "testing",
                "region_name": "us-east-1",
                "addressing_style": "path",
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    files = portal_data()
    source = test_database_url()
    made = run_script(
        "backup",
        str(tmp_path / "backups"),
        env={"DATABASE_URL": source, **s3_env(endpoint, "media-live")},
    )
    assert made.returncode == 0, made.stderr
    [folder] = (tmp_path / "backups").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["media"]["backend"] == "storages.backends.s3.S3Storage"

    restored = run_script(
        "restore",
        str(folder),
        env={"DATABASE_URL": restore_database, **s3_env(endpoint, "media-restored")},
    )
    assert restored.returncode == 0, restored.stderr
    assert table_digests(restore_database) == table_digests(source)
    for name, content in files.items():
        assert client.get_object(Bucket="media-restored", Key=name)["Body"].read() == content
