#!/usr/bin/env python3
"""Ask this container's app server for one of its probes; exit 0 on 200, 1 otherwise.

The image's HEALTHCHECK and the compose file's run it (the slim image has no curl):

    python scripts/http_probe.py /healthz      # or /readyz

It sends the first host in ALLOWED_HOSTS (a leading dot dropped), which the portal accepts,
to 127.0.0.1:$PORT (8000). Standard library only: it runs before anything is imported.
"""

import os
import sys
import urllib.error
import urllib.request


def host_header() -> str:
    hosts = [host.strip() for host in os.environ.get("ALLOWED_HOSTS", "").split(",")]
    first = next((host for host in hosts if host), "localhost")
    return first.lstrip(".")


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "/healthz"
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}{path}"
    request = urllib.request.Request(url, headers={"Host": host_header()})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - a fixed http://127.0.0.1 URL
            status = answer.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"{url}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
