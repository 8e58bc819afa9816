"""Create (or bring up to date) the Meilisearch API key the portal searches and indexes
with, so that only this command ever holds the master key.

manage.py search_key --write var/search/api-key    # the file MEILI_API_KEY_FILE names
manage.py search_key --print                       # the key itself, for a secret store

Needs MEILI_URL and MEILI_MASTER_KEY. The key is limited to what the portal's
Meilisearch backend does (search; documents, settings and tasks; creating, swapping and
deleting its indexes) on MEILI_INDEX and its rebuilds' `<MEILI_INDEX>_<n>` indexes, and
never expires. Its uid is derived from MEILI_INDEX, and Meilisearch derives a key's value
from its uid and the master key: running the command again gives the same key (a key whose
rights differ is deleted and made again under the same uid, so its value does not change),
and a new master key gives a new one.
"""

import hashlib
import os
import tempfile
import uuid
from pathlib import Path

import meilisearch
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from meilisearch.errors import MeilisearchApiError, MeilisearchError

# What catalog.search.meili.MeilisearchBackend calls, and nothing more: search (health
# needs no key); add_documents, delete_documents (by filter); create_index, get_index,
# swap_indexes, delete_index; update_settings, update_synonyms; wait_for_task.
ACTIONS = [
    "search",
    "documents.add",
    "documents.delete",
    "indexes.create",
    "indexes.get",
    "indexes.delete",
    "indexes.swap",
    "settings.update",
    "tasks.get",
]


def key_uid(index: str) -> str:
    """A stable UUID (version 4 in form, as Meilisearch expects) for this index's key."""
    digest = bytearray(hashlib.sha256(f"learning-portal:search-key:{index}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40  # version 4
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    return str(uuid.UUID(bytes=bytes(digest)))


def key_options(index: str) -> dict:
    return {
        "uid": key_uid(index),
        "name": f"learning-portal ({index})",
        "description": "The portal's search and indexing key (manage.py search_key).",
        "actions": ACTIONS,
        "indexes": [index, f"{index}_*"],
        "expiresAt": None,
    }


def ensure_key(client: meilisearch.Client, index: str) -> tuple[str, str]:
    """The key's value and what was done: "kept", "created" or "replaced"."""
    options = key_options(index)
    try:
        existing = client.get_key(options["uid"])
    except MeilisearchApiError as exc:
        if exc.code != "api_key_not_found" and exc.status_code != 404:
            raise
        existing = None
    if existing is not None:
        same = (
            sorted(existing.actions) == sorted(options["actions"])
            and sorted(existing.indexes) == sorted(options["indexes"])
            and existing.expires_at is None
        )
        if same:
            return existing.key, "kept"
        client.delete_key(options["uid"])
    created = client.create_key(options)
    return created.key, "replaced" if existing is not None else "created"


def write_secret(path: Path, value: str) -> None:
    """Readable by this user only, replaced in one step (a reader never sees half a key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".search-key-")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(value + "\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Command(BaseCommand):
    help = "Create or update the portal's Meilisearch API key (needs MEILI_MASTER_KEY)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", metavar="PATH", help="Write the key to this file (0600).")
        parser.add_argument("--print", action="store_true", help="Print the key itself.")

    def handle(self, *args, **options) -> None:
        if not settings.MEILI_URL or not settings.MEILI_MASTER_KEY:
            raise CommandError("search_key needs MEILI_URL and MEILI_MASTER_KEY.")
        client = meilisearch.Client(
            settings.MEILI_URL,
            settings.MEILI_MASTER_KEY,
            # Seconds as a float, as requests takes them (meilisearch annotates an int).
            timeout=settings.MEILI_WRITE_TIMEOUT_SECONDS,  # type: ignore[arg-type]
        )
        try:
            value, done = ensure_key(client, settings.MEILI_INDEX)
        except MeilisearchError as exc:
            raise CommandError(f"Meilisearch refused the key: {exc}") from exc
        if value == settings.MEILI_MASTER_KEY:
            raise CommandError("Meilisearch answered with the master key; refusing to use it.")
        if options["write"]:
            write_secret(Path(options["write"]), value)
        if options["print"]:
            self.stdout.write(value)
        uid = key_uid(settings.MEILI_INDEX)
        where = f"; written to {options['write']}" if options["write"] else ""
        self.stderr.write(
            f"Search key {uid} {done}: {len(ACTIONS)} actions on "
            f"{settings.MEILI_INDEX} and {settings.MEILI_INDEX}_*{where}."
        )
