"""manage.py search_key: the portal's own Meilisearch key, made with the master key, and
the backend using it rather than the master key.

No Meilisearch server can be installed here (no registry ships one), so /keys is served by
a stand-in that keeps Meilisearch's documented rules: /keys only with the master key, a
key's value derived from its uid and the master key (HMAC-SHA256, checked below against a
published pair), 404 `api_key_not_found`, 409 for a uid taken, rights fixed at creation.
"""

import hashlib
import hmac
import json
import os
import stat
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from catalog.management.commands.search_key import ACTIONS, key_uid
from catalog.search.meili import MeilisearchBackend
from catalog.search.types import SearchFilters
from tests.catalog.meili_stub import MeiliStub
from tests.factories import make_course
from tests.live import ROOT

MASTER = "a-master-key-of-at-least-sixteen-bytes"


def meilisearch_key(master: str, uid: str) -> str:
    """How Meilisearch derives an API key's value from its uid."""
    return hmac.new(master.encode(), uid.encode(), hashlib.sha256).hexdigest()


def test_the_derivation_is_meilisearchs():
    # A uid and master key published with the key Meilisearch gave for them.
    assert (
        meilisearch_key("masterKey", "d7d30ffe-ec60-484f-84f8-1c8b7d0ac352")
        == "623359df9ea4d4a6c676c329c793191601ce7dd15541c2394277eae26aeedf1e"
    )


class KeysServer:
    """Meilisearch's /keys routes, on 127.0.0.1."""

    def __init__(self, master: str) -> None:
        self.master = master
        self.keys: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "KeysServer":
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, method: str, path: str, auth: str | None, body: Any) -> tuple[int, Any]:
        if auth is None:
            return 401, {"code": "missing_authorization_header", "message": "no key"}
        if auth != f"Bearer {self.master}":
            return 403, {"code": "invalid_api_key", "message": "only the master key"}
        uid = path.removeprefix("/keys").strip("/")
        if method == "POST" and not uid:
            uid = body["uid"]
            if uid in self.keys:
                return 409, {"code": "api_key_already_exists", "message": "uid taken"}
            if uuid.UUID(uid).version != 4:
                return 400, {"code": "invalid_api_key_uid", "message": "uuid v4"}
            key = {
                **{k: body.get(k) for k in ("name", "description", "actions", "indexes")},
                "uid": uid,
                "key": meilisearch_key(self.master, uid),
                "expiresAt": body.get("expiresAt"),
                "createdAt": "2026-12-06T00:00:00.123456Z",
                "updatedAt": "2026-12-06T00:00:00.123456Z",
            }
            self.keys[uid] = key
            return 201, key
        if uid not in self.keys:
            return 404, {"code": "api_key_not_found", "message": "no such key"}
        if method == "GET":
            return 200, self.keys[uid]
        if method == "DELETE":
            del self.keys[uid]
            return 204, None
        return 405, {"code": "method_not_allowed", "message": method}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with server._lock:
                    server.calls.append((self.command, self.path))
                    status, answer = server.answer(
                        self.command,
                        self.path,
                        self.headers.get("Authorization"),
                        json.loads(raw) if raw.strip() else None,
                    )
                payload = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = do_PATCH = _serve

        return Handler


@pytest.fixture
def meili(settings):
    with KeysServer(MASTER) as server:
        settings.MEILI_URL = server.url
        settings.MEILI_MASTER_KEY = MASTER
        settings.MEILI_INDEX = "courses"
        yield server


def test_the_key_is_made_with_the_portals_rights_and_written_for_the_servers(
    meili, tmp_path, capsys
):
    path = tmp_path / "search" / "api-key"
    call_command("search_key", write=str(path))
    value = path.read_text().strip()
    uid = key_uid("courses")
    assert uuid.UUID(uid).version == 4
    assert meili.keys[uid]["key"] == value
    assert value == meilisearch_key(MASTER, uid)
    assert value != MASTER
    assert sorted(meili.keys[uid]["actions"]) == sorted(ACTIONS)
    assert "keys.create" not in meili.keys[uid]["actions"]
    assert "*" not in meili.keys[uid]["actions"]
    assert meili.keys[uid]["indexes"] == ["courses", "courses_*"]
    assert meili.keys[uid]["expiresAt"] is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "created" in capsys.readouterr().err


def test_running_it_again_keeps_the_same_key(meili, tmp_path, capsys):
    call_command("search_key", write=str(tmp_path / "first"))
    meili.calls.clear()
    call_command("search_key", write=str(tmp_path / "second"))
    assert (tmp_path / "first").read_text() == (tmp_path / "second").read_text()
    assert [method for method, _ in meili.calls] == ["GET"]
    assert "kept" in capsys.readouterr().err


def test_a_key_with_other_rights_is_made_again_with_the_same_value(meili, capsys):
    call_command("search_key")
    uid = key_uid("courses")
    before = meili.keys[uid]["key"]
    meili.keys[uid]["actions"] = ["search"]  # made by an older release
    meili.calls.clear()
    call_command("search_key", print=True)
    assert [method for method, _ in meili.calls] == ["GET", "DELETE", "POST"]
    assert sorted(meili.keys[uid]["actions"]) == sorted(ACTIONS)
    out = capsys.readouterr()
    assert out.out.strip() == before
    assert "replaced" in out.err


def test_each_index_gets_its_own_key(meili, settings):
    call_command("search_key")
    settings.MEILI_INDEX = "courses_staging"
    call_command("search_key")
    assert len(meili.keys) == 2
    assert key_uid("courses") != key_uid("courses_staging")


def test_without_the_master_key_nothing_is_made(meili, settings):
    settings.MEILI_MASTER_KEY = ""
    with pytest.raises(CommandError, match="MEILI_MASTER_KEY"):
        call_command("search_key")
    assert meili.keys == {}


def test_a_wrong_master_key_is_an_error_not_a_key(meili, settings):
    settings.MEILI_MASTER_KEY = "not-the-master-key-of-this-server"
    with pytest.raises(CommandError, match="refused"):
        call_command("search_key")
    assert meili.keys == {}


@pytest.mark.django_db
def test_the_backend_searches_and_indexes_with_the_api_key_not_the_master_key(settings):
    with MeiliStub(api_key="the-portals-api-key") as stub:
        settings.MEILI_URL = stub.url
        settings.MEILI_INDEX = "courses"
        settings.MEILI_MASTER_KEY = "the-master-key-the-portal-must-not-send"
        settings.MEILI_API_KEY = "the-portals-api-key"
        backend = MeilisearchBackend.from_settings()
        course = make_course(title="Keys and locks")
        backend.index([course.id])
        result = backend.search(query="keys", filters=SearchFilters(), limit=10, offset=0)
        assert [hit["slug"] for hit in result.hits] == [course.slug]
        sent = {request.headers.get("authorization") for request in stub.requests}
        assert sent == {"Bearer the-portals-api-key"}


def test_the_settings_read_the_key_from_the_file_the_command_wrote(tmp_path):
    path = tmp_path / "api-key"
    path.write_text("key-from-the-file\n")
    env = {**os.environ, "MEILI_API_KEY_FILE": str(path)}
    env.pop("MEILI_API_KEY", None)
    read = subprocess.run(
        [sys.executable, "-c", "from portal import settings; print(settings.MEILI_API_KEY)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert read.stdout.strip() == "key-from-the-file"
    missing = subprocess.run(
        [sys.executable, "-c", "from portal import settings"],
        cwd=ROOT,
        env={**env, "MEILI_API_KEY_FILE": str(tmp_path / "absent")},
        capture_output=True,
        text=True,
    )
    assert missing.returncode != 0
    assert "absent" in missing.stderr
