"""A local HTTP stand-in for the part of Stripe's API the portal uses.

    with StripeStub() as stub:
        settings.STRIPE_API_BASE = stub.url
        ...
        assert stub.charges_created == 1

It serves on 127.0.0.1 (ephemeral port) from a background thread and checks requests as
Stripe would: the bearer key, form-encoded POST bodies and an `Idempotency-Key` on every
POST. Idempotency follows Stripe: a key replays its stored answer when the parameters
match and is an `idempotency_error` when they differ; answers of executed requests (2xx
and card declines) are stored, 400 validation errors are not.

Payment methods behave like Stripe's test methods: `pm_card_visa` succeeds,
`pm_card_chargeDeclined…` declines with a 402, `pm_card_authenticationRequired` needs
action, and any other `pm_…` is `resource_missing`.

Fault injection: `delay` seconds are slept after a request is executed and before it is
answered (the charge happens, the client times out); `fail_next(n)` answers the next n
requests with a 500 before anything is executed or stored, like a failing edge.
"""

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DEFAULT_API_KEY = "sk_test_stub"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
SUCCEEDING_METHODS = frozenset({"pm_card_visa", "pm_card_mastercard", "pm_card_amex"})
DECLINES: dict[str, tuple[str, str]] = {
    "pm_card_chargeDeclined": ("generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "Your card has expired."),
}
ACTION_METHODS = frozenset({"pm_card_authenticationRequired", "pm_card_threeDSecure2Required"})
REDIRECT_MESSAGE = (
    "This PaymentIntent is configured to accept payment methods enabled in your Dashboard. "
    "Because some of these payment methods might redirect your customer off of your page, "
    "you must provide a `return_url`."
)

Response = tuple[int, dict[str, Any]]


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _error(status: int, type_: str, message: str, **extra: Any) -> Response:
    return status, {"error": {"type": type_, "message": message, **extra}}


def _invalid(message: str, code: str, param: str | None = None) -> Response:
    return _error(400, "invalid_request_error", message, code=code, param=param)


def _nested(params: dict[str, str], name: str) -> dict[str, str]:
    """{"metadata[a]": "1"} → {"a": "1"} for name "metadata"."""
    prefix = f"{name}["
    return {k[len(prefix) : -1]: v for k, v in params.items() if k.startswith(prefix)}


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    params: dict[str, str]  # Stripe's flat form keys, e.g. "metadata[course]"
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0
    replayed: bool = False

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class _Stored:
    method: str
    path: str
    params: dict[str, str]
    response: Response


class StripeStub:
    """See the module docstring. Usable as a context manager or via start()/stop()."""

    def __init__(self, api_key: str = DEFAULT_API_KEY) -> None:
        self.api_key = api_key
        self.delay = 0.0
        self.requests: list[RecordedRequest] = []
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self._idempotency: dict[str, _Stored] = {}
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> "StripeStub":
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.stub = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one interval
            name="stripe-stub",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # cuts short any injected delay
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def __enter__(self) -> "StripeStub":
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the stub first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- knobs and views ---------------------------------------------------------------
    def fail_next(self, count: int, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    @property
    def charges_created(self) -> int:
        """PaymentIntents created (declined ones included); replays create none."""
        return len(self.payment_intents)

    @property
    def charges_succeeded(self) -> int:
        return sum(pi["status"] == "succeeded" for pi in self.payment_intents.values())

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def set_intent_status(self, intent_id: str, status: str, **fields: Any) -> dict[str, Any]:
        """Move a PaymentIntent on, as a customer or the card network would."""
        with self._lock:
            intent = self.payment_intents[intent_id]
            intent.update(status=status, **fields)
            return dict(intent)

    # --- request handling (called from server threads) ---------------------------------
    def handle(self, record: RecordedRequest, content_type: str) -> tuple[Response, bool]:
        """(response, replayed) for one request; records it."""
        with self._lock:
            self.requests.append(record)
            response, replayed = self._dispatch(record, content_type)
        record.status, record.replayed = response[0], replayed
        if self.delay:
            self._stopping.wait(self.delay)
        return response, replayed

    def _dispatch(self, record: RecordedRequest, content_type: str) -> tuple[Response, bool]:
        if record.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "invalid_request_error", "Invalid API Key provided."), False
        if self._failures:
            status = self._failures.pop(0)
            return _error(status, "api_error", "Something went wrong on Stripe's end."), False
        if record.method != "POST":
            return self._route(record), False
        if not content_type.startswith(FORM_CONTENT_TYPE):
            return _invalid("Request bodies must be form-encoded.", "parameter_invalid"), False
        key = record.idempotency_key
        if not key:
            return _invalid(
                "An Idempotency-Key header is required.", "idempotency_key_required"
            ), False
        return self._idempotent(key, record)

    def _idempotent(self, key: str, record: RecordedRequest) -> tuple[Response, bool]:
        stored = self._idempotency.get(key)
        if stored is not None:
            if (stored.method, stored.path, stored.params) != (
                record.method,
                record.path,
                record.params,
            ):
                return _error(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                ), False
            return stored.response, True
        response = self._route(record)
        if response[0] < 300 or response[0] == 402:
            self._idempotency[key] = _Stored(
                record.method, record.path, dict(record.params), response
            )
        return response, False

    def _route(self, record: RecordedRequest) -> Response:
        method, parts = record.method, record.path.strip("/").split("/")
        if method == "POST" and parts == ["v1", "payment_intents"]:
            return self._create_intent(record.params)
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "payment_intents"]:
            return self._get(self.payment_intents, parts[2], "payment_intent")
        cancel = ["v1", "payment_intents", parts[2] if len(parts) == 4 else "", "cancel"]
        if method == "POST" and parts == cancel:
            return self._cancel_intent(parts[2], record.params)
        if method == "POST" and parts == ["v1", "refunds"]:
            return self._create_refund(record.params)
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "refunds"]:
            return self._get(self.refunds, parts[2], "refund")
        return _error(
            404, "invalid_request_error", f"Unrecognized request URL ({method}: {record.path})."
        )

    @staticmethod
    def _get(objects: dict[str, dict[str, Any]], object_id: str, kind: str) -> Response:
        if object_id not in objects:
            return _error(
                404,
                "invalid_request_error",
                f"No such {kind}: '{object_id}'",
                code="resource_missing",
                param="id",
            )
        return 200, dict(objects[object_id])

    # --- PaymentIntents ----------------------------------------------------------------
    def _create_intent(self, params: dict[str, str]) -> Response:
        problem = self._check_intent_params(params)
        if problem is not None:
            return problem
        method = params["payment_method"]
        known = method in SUCCEEDING_METHODS or method in DECLINES or method in ACTION_METHODS
        if not known:
            return _invalid(
                f"No such PaymentMethod: '{method}'", "resource_missing", "payment_method"
            )
        intent = self._new_intent(params)
        if method in DECLINES:
            return self._decline(intent, *DECLINES[method])
        if method in ACTION_METHODS:
            intent.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
        else:
            intent.update(
                status="succeeded", amount_received=intent["amount"], latest_charge=_id("ch")
            )
        return 200, dict(intent)

    @staticmethod
    def _check_intent_params(params: dict[str, str]) -> Response | None:
        for name in ("amount", "currency", "payment_method"):
            if not params.get(name):
                return _invalid(f"Missing required param: {name}.", "parameter_missing", name)
        if not params["amount"].isdigit() or int(params["amount"]) < 1:
            return _invalid("Invalid positive integer", "parameter_invalid_integer", "amount")
        if int(params["amount"]) < 50:
            return _invalid("Amount must be at least $0.50 usd", "amount_too_small", "amount")
        currency = params["currency"]
        if len(currency) != 3 or not currency.isalpha() or not currency.islower():
            return _invalid(f"Invalid currency: {currency}.", "parameter_invalid", "currency")
        redirects_allowed = (
            params.get("automatic_payment_methods[enabled]") == "true"
            and params.get("automatic_payment_methods[allow_redirects]") != "never"
        )
        if params.get("confirm") == "true" and redirects_allowed and not params.get("return_url"):
            return _invalid(REDIRECT_MESSAGE, "parameter_missing", "return_url")
        return None

    def _new_intent(self, params: dict[str, str]) -> dict[str, Any]:
        intent_id = _id("pi")
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_received": 0,
            "currency": params["currency"],
            "status": "requires_payment_method",
            "payment_method": params["payment_method"],
            "description": params.get("description"),
            "metadata": _nested(params, "metadata"),
            "automatic_payment_methods": {
                "enabled": params.get("automatic_payment_methods[enabled]") == "true",
                "allow_redirects": params.get("automatic_payment_methods[allow_redirects]"),
            },
            "capture_method": "automatic",
            "confirmation_method": "automatic",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "created": int(time.time()),
            "latest_charge": None,
            "last_payment_error": None,
            "next_action": None,
            "cancellation_reason": None,
            "livemode": False,
        }
        self.payment_intents[intent_id] = intent
        return intent

    @staticmethod
    def _decline(intent: dict[str, Any], decline_code: str, message: str) -> Response:
        error = {
            "type": "card_error",
            "code": "expired_card" if decline_code == "expired_card" else "card_declined",
            "decline_code": decline_code,
            "message": message,
            "charge": _id("ch"),
        }
        intent.update(last_payment_error=dict(error), latest_charge=error["charge"])
        return 402, {"error": {**error, "payment_intent": dict(intent)}}

    def _cancel_intent(self, intent_id: str, params: dict[str, str]) -> Response:
        intent = self.payment_intents.get(intent_id)
        if intent is None:
            return self._get(self.payment_intents, intent_id, "payment_intent")
        if intent["status"] in ("succeeded", "canceled"):
            message = (
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}."
            )
            return _error(
                400,
                "invalid_request_error",
                message,
                code="payment_intent_unexpected_state",
                payment_intent=dict(intent),
            )
        intent.update(
            status="canceled",
            next_action=None,
            cancellation_reason=params.get("cancellation_reason") or "requested_by_customer",
        )
        return 200, dict(intent)

    # --- Refunds -----------------------------------------------------------------------
    def _create_refund(self, params: dict[str, str]) -> Response:
        intent = self.payment_intents.get(params.get("payment_intent", ""))
        if intent is None:
            message = f"No such payment_intent: '{params.get('payment_intent', '')}'"
            return _invalid(message, "resource_missing", "payment_intent")
        if intent["status"] != "succeeded":
            return _invalid(
                "This PaymentIntent does not have a successful charge to refund.",
                "charge_not_refundable",
            )
        refunded = sum(
            r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"]
        )
        remaining = intent["amount_received"] - refunded
        amount = int(params["amount"]) if params.get("amount", "").isdigit() else remaining
        if amount < 1 or amount > remaining:
            return _invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount ({remaining}).",
                "amount_too_large",
                "amount",
            )
        refund = {
            "id": _id("re"),
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "status": "succeeded",
            "metadata": _nested(params, "metadata"),
            "created": int(time.time()),
        }
        self.refunds[refund["id"]] = refund
        return 200, dict(refund)

    # --- webhook helpers ---------------------------------------------------------------
    def charge_of(self, intent_id: str) -> dict[str, Any]:
        """The Charge object behind a PaymentIntent, as `charge.*` events carry it."""
        intent = self.payment_intents[intent_id]
        refunded = sum(
            r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent_id
        )
        return {
            "id": intent["latest_charge"],
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": refunded,
            "refunded": refunded >= intent["amount"],
            "currency": intent["currency"],
            "payment_intent": intent_id,
            "status": "succeeded" if intent["status"] == "succeeded" else "failed",
        }


def make_event(event_type: str, obj: dict[str, Any], *, created: int | None = None) -> bytes:
    """A Stripe event payload (as webhooks deliver it) around `obj`."""
    event = {
        "id": _id("evt"),
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()) if created is None else created,
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }
    return json.dumps(event).encode()


class _Handler(BaseHTTPRequestHandler):
    server_version = "StripeStub/1.0"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        stub: StripeStub = self.server.stub  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        record = RecordedRequest(
            method=self.command,
            path=url.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            params=dict(parse_qsl(body, keep_blank_values=True)),
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
        )
        (status, payload), replayed = stub.handle(record, self.headers.get("Content-Type", ""))
        self._reply(status, payload, replayed, record.idempotency_key)

    def _reply(self, status: int, payload: dict[str, Any], replayed: bool, key: str | None) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status, HTTPStatus(status).phrase)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", _id("req"))
            if key:
                self.send_header("Idempotency-Key", key)
            if replayed:
                self.send_header("Idempotent-Replayed", "true")
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); the request was still executed

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; `StripeStub.requests` is the log
