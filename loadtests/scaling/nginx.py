"""A local nginx in front of the stack's app servers, made from deploy/nginx.conf.

The deployment's file is the source: only what ties it to docker compose changes (the
upstream's servers, the listen address), and what a non-root, self-contained run needs is
added (its temp paths under the run's folder). Everything the load test should measure
(least_conn, upstream keepalive, websocket upgrade, gzip, timeouts) stays as deployed.
"""

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = ROOT / "deploy" / "nginx.conf"
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(path).exists()),
        None,
    )


def local_config(source: str, *, listen_port: int, upstreams: list[int], prefix: Path) -> str:
    """deploy/nginx.conf with the upstreams' servers on 127.0.0.1:`upstreams`, listening on
    127.0.0.1:`listen_port`, and temp files under `prefix`."""

    def servers(match: re.Match[str]) -> str:
        # Each upstream keeps its own server parameters (max_fails, fail_timeout).
        parameters = re.match(r"\s*server \S+?([^\S\n][^;\n]*)?;", match.group(2))
        extra = (parameters.group(1) or "") if parameters else ""
        lines = "".join(f"        server 127.0.0.1:{port}{extra};\n" for port in upstreams)
        return match.group(1) + lines

    config, found = re.subn(
        r"(upstream portal(?:_ws)? \{\n(?:\s*least_conn;\n)?)((?:\s*server [^\n]+;\n)+)",
        servers,
        source,
    )
    if found != 2:
        raise ValueError("deploy/nginx.conf: `upstream portal` and `portal_ws` not both found")
    config, found = re.subn(
        r"^(\s*)listen 80;", rf"\g<1>listen 127.0.0.1:{listen_port};", config, flags=re.M
    )
    if found != 1:
        raise ValueError("deploy/nginx.conf: no `listen 80;` found")
    temp = "".join(f"    {name}_temp_path {prefix / (name + '_temp')};\n" for name in TEMP_PATHS)
    return config.replace("http {\n", "http {\n" + temp, 1)


def nginx_prepare(*, folder: Path, listen_port: int, upstreams: list[int]) -> Path:
    """Write the local config (and its temp folders) under `folder`; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in TEMP_PATHS:
        # The workers may run as another user than the master (root's `nobody`).
        (folder / f"{name}_temp").mkdir(exist_ok=True)
        (folder / f"{name}_temp").chmod(0o1777)
    path = folder / "nginx.conf"
    path.write_text(
        local_config(
            DEPLOYED.read_text(), listen_port=listen_port, upstreams=upstreams, prefix=folder
        )
    )
    return path


def nginx_command(binary: str, *, config: Path, folder: Path) -> list[str]:
    """nginx in the foreground (a child the runner can stop by its PID), with its own
    prefix and pid file."""
    return [
        binary, "-e", "stderr", "-p", str(folder), "-c", str(config),
        "-g", f"daemon off; pid {folder / 'nginx.pid'};",
    ]  # fmt: skip


def nginx_check(binary: str, *, config: Path, folder: Path) -> None:
    """`nginx -t` on the generated file; raises with nginx's complaint."""
    command = nginx_command(binary, config=config, folder=folder)
    result = subprocess.run(
        [*command[:-2], "-t", "-g", command[-1]], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"nginx -t failed: {result.stderr.strip()}")
