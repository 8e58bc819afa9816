"""structlog set-up: JSON lines in production, readable lines in development, each with the
`request_id` of the request, connection or job it belongs to (portal.request_id)."""

import logging
from typing import Any

import structlog

from portal.request_id import request_id_get


def add_request_id(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """The bound request id; for a stdlib record, the one stamped on it when it was made
    (`_stamp_request_id`) or on the request it names (django.request logs a 4xx answer
    after the middleware has returned)."""
    if "request_id" in event_dict:
        return event_dict
    record = event_dict.get("_record")
    if record is None:  # a structlog call: processed as it is made
        value = request_id_get()
    else:
        value = getattr(record, "request_id", None) or getattr(
            getattr(record, "request", None), "request_id", None
        )
    if value is not None:
        event_dict["request_id"] = value
    return event_dict


_SHARED_PROCESSORS: list = [
    structlog.contextvars.merge_contextvars,
    add_request_id,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]

structlog.configure(
    processors=[*_SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)

_record_factory = logging.getLogRecordFactory()


def _stamp_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Every stdlib record gets `request_id` when it is made, in the context that logs it:
    any handler (a test's, an error tracker's) sees it, whenever it formats the record."""
    record = _record_factory(*args, **kwargs)
    record.request_id = request_id_get()
    return record


if getattr(_record_factory, "__name__", "") != _stamp_request_id.__name__:
    logging.setLogRecordFactory(_stamp_request_id)


def structlog_formatter(format_name: str = "console") -> logging.Formatter:
    renderer = (
        structlog.processors.JSONRenderer()
        if format_name == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED_PROCESSORS,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
