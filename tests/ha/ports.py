"""Ports for the servers the high-availability tests start, from ranges of their own:
private Redis servers on 6390-6399, sentinels on 26390-26399, app servers on 9250-9299.
A port is taken only after a bind shows it free; each process starts its search at an
offset of its own, so two test processes rarely try the same port first (and a server
that still loses the race is started again on another)."""

import os
import socket

REDIS_PORTS = range(6390, 6400)
SENTINEL_PORTS = range(26390, 26400)
APP_PORTS = range(9250, 9300)


def bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(
    candidates: range, count: int, *, exclude: set[int] | frozenset = frozenset()
) -> list[int]:
    ports = list(candidates)
    start = os.getpid() % len(ports)
    found = []
    for port in ports[start:] + ports[:start]:
        if port not in exclude and bindable(port):
            found.append(port)
            if len(found) == count:
                return found
    raise RuntimeError(f"fewer than {count} free ports in {candidates}")
