"""Effect handlers, named by their dotted path.

Only functions decorated with `@effect_handler` may be named in an outbox row: the relay
imports a handler's module by name (so the code that records an effect need not import the
code that carries it out), then refuses anything that did not register.
"""

from collections.abc import Callable
from importlib import import_module
from typing import Any

Handler = Callable[..., Any]
_handlers: dict[str, Handler] = {}


def effect_handler(function: Handler) -> Handler:
    _handlers[f"{function.__module__}.{function.__qualname__}"] = function
    return function


def handler_get(name: str) -> Handler:
    if name not in _handlers:
        import_module(name.rpartition(".")[0])  # registers its handlers
    try:
        return _handlers[name]
    except KeyError:
        raise LookupError(f"{name} is not a registered effect handler") from None
