"""Static files in production: `collectstatic` under the production settings writes every
file under a content-hashed name with gzip and Brotli copies (portal/staticfiles.py), the
ES modules import each other by those hashed names, and WhiteNoise, in a daphne server
on the production settings, serves them compressed and cached for good.

The portal's own files only (`-i` leaves out the admin's, DRF's and Swagger UI's, 40 MB
that take half a minute to compress, and that the image's build collects anyway)."""

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from loadtests.servers import ServerProcess
from tests.live import ROOT

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "portal.settings_production",
    "SECRET_KEY": "static-files-test-" + "k" * 40,
    "ALLOWED_HOSTS": "127.0.0.1",
    # Required by the production settings; nothing here connects to them.
    "DATABASE_URL": "postgresql://static.invalid/portal",
    "REDIS_URL": "redis://static.invalid:6379/0",
    "SECURE_SSL_REDIRECT": "false",  # plain HTTP to the test server, as behind the balancer
    "LOG_LEVEL": "WARNING",
}
THIRD_PARTY = ("admin", "rest_framework", "drf_spectacular_sidecar")
HASHED = re.compile(r"\.[0-9a-f]{12}\.(js|css|svg|png)$")
RELATIVE_IMPORT = re.compile(r"""^(?:import|export)\b[^;]*?["'](\.{1,2}/[^"']+)["']\s*;""", re.M)
FOREVER = "max-age=315360000, public, immutable"


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("static")
    env = {**os.environ, **PRODUCTION, "STATIC_ROOT": str(root)}
    ignored = [argument for name in THIRD_PARTY for argument in ("-i", name)]
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0", *ignored],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return root


@pytest.fixture(scope="module")
def server(collected):
    live = ServerProcess(**PRODUCTION, STATIC_ROOT=str(collected)).start()
    yield live
    live.stop()


def hashed_name(collected: Path, name: str) -> str:
    manifest = json.loads((collected / "staticfiles.json").read_text())
    return manifest["paths"][name]


def get(url: str, encoding: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Accept-Encoding": encoding} if encoding else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()


def test_every_file_has_a_hashed_name_and_compressed_copies(collected):
    for name in ("css/portal.css", "js/app.js", "js/pages/course.js", "img/logo.svg"):
        hashed = hashed_name(collected, name)
        assert HASHED.search(hashed), hashed
        for suffix in (".gz", ".br"):
            assert (collected / f"{hashed}{suffix}").exists(), f"{hashed}{suffix}"


def test_the_modules_import_each_other_by_their_hashed_names(collected):
    modules = [path for path in (collected / "js").rglob("*.js") if HASHED.search(path.name)]
    assert len(modules) > 20
    imports = 0
    for module in modules:
        for url in RELATIVE_IMPORT.findall(module.read_text(encoding="utf-8")):
            imports += 1
            assert HASHED.search(url), f"{module.name} imports {url} by its plain name"
            assert (module.parent / url).resolve().exists(), f"{module.name}: {url}"
    assert imports > 50


def module_graph(collected: Path, entry: str) -> set[str]:
    """The static names (hashed) a page's entry module loads, itself included."""
    seen: set[str] = set()
    todo = [hashed_name(collected, entry)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        source = (collected / name).read_text(encoding="utf-8")
        for url in RELATIVE_IMPORT.findall(source):
            target = (collected / name).parent / url
            todo.append(target.resolve().relative_to(collected.resolve()).as_posix())
    return seen


@pytest.mark.parametrize(("encoding", "expected"), [("gzip", "gzip"), ("br, gzip", "br")])
def test_whitenoise_serves_them_compressed_and_immutable(server, collected, encoding, expected):
    names = module_graph(collected, "js/pages/course.js") | {
        hashed_name(collected, "css/portal.css")
    }
    assert len(names) > 10
    for name in sorted(names):
        status, headers, body = get(f"{server.url}/static/{name}", encoding)
        assert status == 200, name
        assert headers.get("content-encoding") == expected, (name, headers)
        assert headers["cache-control"] == FOREVER, (name, headers)
        assert "Accept-Encoding" in headers.get("vary", ""), name
        assert len(body) < (collected / name).stat().st_size, name


def test_a_plain_name_is_served_but_cached_briefly(server):
    status, headers, _ = get(f"{server.url}/static/js/app.js", "gzip")
    assert status == 200
    assert "immutable" not in headers["cache-control"]
    assert headers["cache-control"] == "max-age=60, public"
