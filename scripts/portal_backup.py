#!/usr/bin/env python3
"""Back up and restore the portal's data: its PostgreSQL database and its media store.

    scripts/backup [DIRECTORY]       # a new folder portal-<UTC time>/ in it (var/backups)
    scripts/restore FOLDER           # into the (empty) database and media store configured

Both read the deployment's own environment: DATABASE_URL, and the media store the settings
configure (DJANGO_SETTINGS_MODULE, default portal.settings): the local folder MEDIA_ROOT,
or the S3 bucket AWS_STORAGE_BUCKET_NAME (with its endpoint and credentials). A backup
folder holds:

- database.dump: `pg_dump --format=custom` of DATABASE_URL (any PostgreSQL database the
  same or an older major version than the pg_dump on the PATH);
- media.tar: every file of the media store, under its storage name, read through the
  storage API (local disk and S3 alike);
- manifest.json: when, from where, and each file's size and SHA-256, the dump's too.

A restore checks every checksum first, refuses a database that has any table or a media
store that has any file (it never merges or overwrites), runs `pg_restore --no-owner
--no-privileges --single-transaction --exit-on-error`, puts every file back under its
name and checks it again, then checks that each file the restored database refers to
(every FileField) is in the media store. Then rebuild the search index
(`manage.py search_rebuild`): Meilisearch is derived data, as is everything in Redis.

The password never appears on a command line (it goes to pg_dump and pg_restore in
PGPASSWORD). Exit status: 0 done, 1 failed (nothing half-restored is left unreported), 2
refused (a target that is not empty, a backup that does not check out).
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
FORMAT = 1
CHUNK = 1024 * 1024


class Refused(Exception):
    """The target or the backup is not what a restore may proceed with."""


class Failed(Exception):
    pass


# --- PostgreSQL -------------------------------------------------------------------------


def pg_target(url: str) -> tuple[str, dict[str, str]]:
    """(the URL without its password, for pg_dump's argument; the environment with the
    password in PGPASSWORD)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise Refused(f"DATABASE_URL must be a PostgreSQL URL, not {parts.scheme or 'empty'}")
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
    netloc = parts.hostname or ""
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(("postgresql", netloc, parts.path, parts.query, "")), env


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def run_pg(command: list[str], env: dict[str, str]) -> str:
    tool = shutil.which(command[0])
    if tool is None:
        raise Failed(f"{command[0]} is not on the PATH (Debian: postgresql-client)")
    result = subprocess.run(  # noqa: S603 - the PostgreSQL tools, arguments built here
        [tool, *command[1:]], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise Failed(f"{command[0]} failed (exit {result.returncode}): {result.stderr.strip()}")
    return result.stdout


def tables_in(url: str) -> int:
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%'"
        ).fetchone()
    return int(row[0])


# --- the media store --------------------------------------------------------------------


def media_storage():
    from django.core.files.storage import storages

    return storages["default"]


def storage_files(storage, folder: str = "") -> Iterator[str]:
    """Every file's name in the store, depth first (S3: listed by prefix)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield str(PurePosixPath(folder, name)) if folder else name
    for sub in sorted(folders):
        yield from storage_files(storage, str(PurePosixPath(folder, sub)) if folder else sub)


class HashingReader:
    """A file object that hashes what is read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.sha256 = hashlib.sha256()
        self.size = 0

    closed = False

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def seekable(self) -> bool:
        return False  # read once, front to back: the hash covers every byte exactly once


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise Refused(f"media.tar holds an unsafe name: {name!r}")
    return str(path)


# --- backup -----------------------------------------------------------------------------


def backup(directory: Path) -> Path:
    url = os.environ.get("DATABASE_URL", "")
    target, env = pg_target(url)
    import django

    django.setup()
    storage = media_storage()
    os.umask(0o077)  # the dump holds accounts and payments: for this user's eyes only
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = directory / f"portal-{stamp}"
    partial = directory / f".portal-{stamp}.partial"
    partial.mkdir(parents=True)
    try:
        write_backup(partial, url, target, env, storage)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(folder)  # complete, or not there at all
    return folder


def write_backup(partial: Path, url: str, target: str, env: dict[str, str], storage) -> None:
    started = time.monotonic()

    # The database first: a file it refers to that is deleted before the media archive is
    # read shows up in restore's reference check.
    dump = partial / "database.dump"
    run_pg(["pg_dump", "--format=custom", "--no-password", f"--file={dump}", target], env)
    pg_dump_version = run_pg(["pg_dump", "--version"], env).strip()

    files: list[dict[str, Any]] = []
    with tarfile.open(partial / "media.tar", "w") as archive:
        for name in storage_files(storage):
            size = storage.size(name)
            with storage.open(name, "rb") as raw:
                reader = HashingReader(raw)
                info = tarfile.TarInfo(name)
                info.size = size
                info.mtime = int(time.time())
                info.mode = 0o644
                archive.addfile(info, reader)
            if reader.size != size:
                raise Failed(f"{name}: {reader.size} bytes read, the store said {size}")
            files.append({"name": name, "size": size, "sha256": reader.sha256.hexdigest()})

    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "database": {
            "name": database_name(url),
            "host": urlsplit(url).hostname,
            "pg_dump": pg_dump_version,
            "file": "database.dump",
            "size": dump.stat().st_size,
            "sha256": file_sha256(dump),
        },
        "media": {
            "backend": f"{type(storage).__module__}.{type(storage).__qualname__}",
            "file": "media.tar",
            "count": len(files),
            "bytes": sum(item["size"] for item in files),
            "files": files,
        },
        "seconds": round(time.monotonic() - started, 1),
    }
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


# --- restore ----------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise Refused(f"{folder} is not a backup (no manifest.json)")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise Refused(f"backup format {manifest.get('format')}, this script reads {FORMAT}")
    dump = folder / manifest["database"]["file"]
    if not dump.is_file() or file_sha256(dump) != manifest["database"]["sha256"]:
        raise Refused(f"{dump} is missing or does not match its checksum")
    with tarfile.open(folder / manifest["media"]["file"], "r") as archive:
        members = {member.name: member for member in archive.getmembers()}
    listed = {item["name"]: item for item in manifest["media"]["files"]}
    if set(members) != set(listed):
        raise Refused("media.tar and the manifest list different files")
    for name, item in listed.items():
        safe_name(name)
        if not members[name].isfile() or members[name].size != item["size"]:
            raise Refused(f"media.tar: {name} is not the file the manifest lists")
    return manifest


def restore(folder: Path) -> dict[str, Any]:
    manifest = read_manifest(folder)  # every check before anything is written
    url = os.environ.get("DATABASE_URL", "")
    target, env = pg_target(url)
    import django

    django.setup()
    storage = media_storage()
    if tables := tables_in(url):
        raise Refused(f"the database {database_name(url)} is not empty ({tables} relations)")
    if (existing := next(storage_files(storage), None)) is not None:
        raise Refused(f"the media store is not empty (it has {existing})")

    started = time.monotonic()
    dump = folder / manifest["database"]["file"]
    run_pg(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={target}",
            str(dump),
        ],
        env,
    )

    from django.core.files import File

    listed = {item["name"]: item for item in manifest["media"]["files"]}
    with tarfile.open(folder / manifest["media"]["file"], "r") as archive:
        for member in archive:
            name = safe_name(member.name)
            source = archive.extractfile(member)
            if source is None:
                raise Failed(f"media.tar: {name} has no content")
            reader = HashingReader(source)
            saved = storage.save(name, File(reader, name=name))
            if saved != name:
                raise Failed(f"the store saved {name} as {saved}")
            if reader.sha256.hexdigest() != listed[name]["sha256"]:
                raise Failed(f"{name} changed on the way back: checksum mismatch")
            with storage.open(name, "rb") as back:
                again = HashingReader(back)
                while again.read(CHUNK):
                    pass
            if again.sha256.hexdigest() != listed[name]["sha256"]:
                raise Failed(f"{name} reads back differently from the store")

    missing = referenced_files_missing(storage)
    if missing:
        raise Failed(
            f"restored, but {len(missing)} file(s) the database refers to are not in the "
            f"media store (the backup was taken while they changed?): {missing[:10]}"
        )
    return {
        "database": database_name(url),
        "files": len(listed),
        "bytes": manifest["media"]["bytes"],
        "seconds": round(time.monotonic() - started, 1),
    }


def referenced_files_missing(storage) -> list[str]:
    """Names in any FileField of the restored database that the store does not have."""
    from django.apps import apps
    from django.db import models

    present = set(storage_files(storage))
    missing: list[str] = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                names = (
                    model._default_manager.exclude(**{field.name: ""})
                    .exclude(**{f"{field.name}__isnull": True})
                    .values_list(field.name, flat=True)
                )
                missing += [name for name in names.iterator() if name not in present]
    return sorted(set(missing))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("backup", help="Back up the database and the media store.")
    make.add_argument("directory", nargs="?", default=ROOT / "var" / "backups", type=Path)
    back = sub.add_parser("restore", help="Restore a backup into an empty database and store.")
    back.add_argument("folder", type=Path)
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    try:
        if options.command == "backup":
            folder = backup(options.directory)
            manifest = json.loads((folder / "manifest.json").read_text())
            print(
                f"backup: {folder} (database {manifest['database']['size']} bytes, "
                f"{manifest['media']['count']} media files, {manifest['media']['bytes']} bytes)"
            )
        else:
            done = restore(options.folder)
            print(
                f"restore: {options.folder} into {done['database']} "
                f"({done['files']} media files, {done['bytes']} bytes, {done['seconds']} s); "
                "now run `manage.py search_rebuild`"
            )
    except Refused as reason:
        print(f"{options.command} refused: {reason}", file=sys.stderr)
        return 2
    except Failed as reason:
        print(f"{options.command} failed: {reason}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
