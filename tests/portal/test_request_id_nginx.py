"""deploy/nginx.conf in front of a real daphne server: nginx gives each request its id
(replacing any a client sends), the portal logs and answers that id, and nginx's access log
names it too, its own 502 included. The configuration is the deployed file, pointed at the
test's server and port; nginx runs as a private process, stopped by its PID."""

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.live import ROOT, LiveServer, free_port
from tests.portal.logs import json_lines

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"deploy/nginx.conf no longer has {old!r} once"
    return text.replace(old, new)


def nginx_config(upstream_port: int, listen_port: int, prefix: Path) -> str:
    """The deployed file, with the test's upstream, address and writable paths."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    text = _replace_once(
        text,
        "server web1:8000 max_fails=3 fail_timeout=10s;",
        f"server 127.0.0.1:{upstream_port} max_fails=3 fail_timeout=10s;",
    )
    text = _replace_once(text, "        server web2:8000 max_fails=3 fail_timeout=10s;\n", "")
    text = _replace_once(
        text, "server web1:8000 max_fails=0;", f"server 127.0.0.1:{upstream_port} max_fails=0;"
    )
    text = _replace_once(text, "        server web2:8000 max_fails=0;\n", "")
    text = _replace_once(text, "        listen 80;\n", f"        listen 127.0.0.1:{listen_port};\n")
    temp = "".join(
        f"    {kind}_temp_path {prefix / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return _replace_once(text, "http {\n", "http {\n" + temp)


class Nginx:
    def __init__(self, upstream_port: int, prefix: Path) -> None:
        assert Path(NGINX).exists(), "nginx is missing: scripts/services installs it"
        self.port = free_port()
        self.prefix = prefix
        self.config = prefix / "nginx.conf"
        self.config.write_text(nginx_config(upstream_port, self.port, prefix))
        self.log_path = prefix / "nginx.log"
        self.process: subprocess.Popen | None = None

    def command(self, directives: str = "") -> list[str]:
        directives = f"pid {self.prefix / 'nginx.pid'}; {directives}"
        config = ["-p", str(self.prefix), "-c", str(self.config)]
        return [NGINX, "-e", "stderr", *config, "-g", directives]

    def start(self) -> "Nginx":
        checked = subprocess.run(
            [*self.command(), "-t"], capture_output=True, text=True, timeout=30, check=False
        )
        assert checked.returncode == 0, checked.stderr
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(self.command("daemon off;"), stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(self.log_path.read_text()) from None
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def access_line(self, *parts: str) -> str:
        """The access log's line with all of `parts`: nginx writes it once the answer is
        sent, so it may come a moment after the client has the answer."""
        deadline = time.monotonic() + 30
        while True:
            for line in self.log_path.read_text().splitlines():
                if all(part in line for part in parts):
                    return line
            assert time.monotonic() < deadline, f"no access line with {parts}"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def stack(tmp_path):
    server = LiveServer(log_dir=tmp_path, LOG_FORMAT="json", LOG_LEVEL="INFO").start()
    proxy: Nginx | None = None
    try:
        proxy = Nginx(server.port, tmp_path).start()
        yield server, proxy
    finally:
        if proxy is not None:
            proxy.stop()
        server.stop()


def test_nginx_gives_the_id_the_portal_logs_and_answers(stack):
    server, proxy = stack
    answer = requests.get(
        f"{proxy.url}/api/courses/no-such-course",
        headers={"X-Request-ID": "chosen-by-the-client"},
        timeout=30,
    )
    assert answer.status_code == 404
    request_id = answer.headers["X-Request-ID"]
    assert request_id != "chosen-by-the-client"
    # nginx's $request_id, once (requests would join two headers with a comma).
    assert len(request_id) == 32 and int(request_id, 16) >= 0

    not_found = [
        line
        for line in json_lines(server.log_path.read_text())
        if line.get("logger") == "django.request"
    ]
    assert [line.get("request_id") for line in not_found] == [request_id]
    assert " 404 " in proxy.access_line(f" rid={request_id} ", "/api/courses/no-such-course")


def test_nginx_names_the_id_on_its_own_errors(stack):
    server, proxy = stack
    server.stop()  # the upstream is gone: nginx answers 502 itself
    answer = requests.get(f"{proxy.url}/api/courses", timeout=30)
    assert answer.status_code == 502
    request_id = answer.headers["X-Request-ID"]
    assert " 502 " in proxy.access_line(f" rid={request_id} ")
