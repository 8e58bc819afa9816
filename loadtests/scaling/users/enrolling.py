"""Students enrolling, each way the checkout goes: a paid course as a guest, a free course
signed in, a declined card, 3-D Secure (the test gateway's bank page, then /confirm), a
retry with the same Idempotency-Key, and a coupon. Courses are the held instructors' (see
common.held_instructors), without a capacity, so seats never run out."""

import random
import re
import uuid
from itertools import cycle
from typing import Any

from locust import task

from loadtests.scaling.users.common import (
    PortalUser,
    bearer,
    check,
    error_code,
    fixtures,
    held_instructors,
    student_account,
    think,
)

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")


def _active_paid(body: dict) -> bool:
    return body["status"] == "active" and body["payment"]["status"] == "succeeded"


class EnrollingStudent(PortalUser):
    wait_time = think(3, 8)
    request_names = (
        "/api/enrollments (paid)",
        "/api/enrollments (free)",
        "/api/enrollments (declined)",
        "/api/enrollments (3-D Secure)",
        "/payments/test/authenticate/[secret]",
        "/payments/test/authenticate/[secret] (approve)",
        "/api/enrollments/[id]/confirm",
        "/api/enrollments (retry: first)",
        "/api/enrollments (retry: same key)",
        "/api/courses/[slug]/coupons/[code]/quote",
        "/api/enrollments (coupon)",
    )

    # How often each way of checking out comes, in a shuffled round per user: every way
    # comes once in each round of 12, so even a short run makes every kind of request.
    FLOWS = {"paid_as_guest": 5, "free_signed_in": 2, "declined": 1, "three_d_secure": 1,
             "retried": 1, "with_coupon": 2}  # fmt: skip

    def on_start(self) -> None:
        rounds = [name for name, weight in self.FLOWS.items() for _ in range(weight)]
        random.shuffle(rounds)
        self.flows = cycle(rounds)
        self.account = student_account(self.environment, "enroll")
        self.auth = bearer(self.account["token"])
        self.taken: set[str] = set()  # courses this account enrolled in
        instructors = held_instructors()
        self.paid = sorted({slug for person in instructors for slug in person["paid"]})
        self.free = sorted({slug for person in instructors for slug in person["free"]})

    def _guest(self) -> dict[str, str]:
        return {
            "email": f"guest-{fixtures()['label']}-{uuid.uuid4().hex[:12]}@load.example.com",
            "name": "Load Guest",
        }

    def _untaken(self, slugs: list[str]) -> str | None:
        left = [slug for slug in slugs if slug not in self.taken]
        return self.pick(left) if left else None

    def _post(self, body: dict, name: str, *, key: str | None = None,
              auth: bool = False) -> Any:  # fmt: skip
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        if auth:
            headers.update(self.auth)
        return self.client.post(
            "/api/enrollments", json=body, headers=headers, name=name, catch_response=True
        )

    @task
    def checkout(self) -> None:
        getattr(self, next(self.flows))()

    def paid_as_guest(self) -> None:
        body = {"course": self.pick(self.paid), "student": self._guest(),
                "payment_method": "pm_card_visa"}  # fmt: skip
        with self._post(body, "/api/enrollments (paid)") as response:
            check(response, 201, _active_paid)

    def free_signed_in(self) -> None:
        slug = self._untaken(self.free)
        if slug is None:
            return
        with self._post({"course": slug}, "/api/enrollments (free)", auth=True) as response:
            if check(response, 201, lambda body: body["status"] == "active"):
                self.taken.add(slug)

    def declined(self) -> None:
        body = {"course": self.pick(self.paid), "student": self._guest(),
                "payment_method": "pm_card_chargeDeclined"}  # fmt: skip
        with self._post(body, "/api/enrollments (declined)") as response:
            if response.status_code == 402 and error_code(response) == "payment_declined":
                response.success()
            else:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")

    def three_d_secure(self) -> None:
        """Pay, approve the challenge on the bank's page, confirm: active."""
        slug = self._untaken(self.paid)
        if slug is None:
            return
        body = {"course": slug, "payment_method": "pm_card_authenticationRequired"}
        with self._post(body, "/api/enrollments (3-D Secure)", auth=True) as response:
            answer = check(
                response,
                201,
                lambda body: (
                    body["status"] == "pending"
                    and (body["payment"].get("next_action") or {}).get("redirect_url")
                ),
                "a pending enrollment with a redirect to the bank",
            )
        if not answer:
            return
        self.taken.add(slug)
        bank = answer["payment"]["next_action"]["redirect_url"]
        with self.client.get(
            bank, name="/payments/test/authenticate/[secret]", catch_response=True
        ) as response:
            if not check(response, 200):
                return
            token = CSRF_INPUT.search(response.text or "")
            cookie = CSRF_COOKIE.search(response.headers.get("set-cookie", "") or "")
            if not token or not cookie:
                response.failure("the bank page has no CSRF token or cookie")
                return
        # The cookie is Secure (production settings), which a client only sends over
        # HTTPS; this nginx speaks HTTP, so it is sent by hand.
        with self.client.post(
            bank,
            data=f"csrfmiddlewaretoken={token.group(1)}&decision=approve",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={cookie.group(1)}",
            },
            name="/payments/test/authenticate/[secret] (approve)",
            catch_response=True,
        ) as response:
            if not check(response, 200):
                return
        with self.client.post(
            f"/api/enrollments/{answer['id']}/confirm",
            headers=self.auth,
            name="/api/enrollments/[id]/confirm",
            catch_response=True,
        ) as response:
            check(response, 200, _active_paid)

    def retried(self) -> None:
        """A client that did not see its answer sends the same request again with the same
        key: the same enrollment comes back, charged once."""
        key = str(uuid.uuid4())
        body = {"course": self.pick(self.paid), "student": self._guest(),
                "payment_method": "pm_card_visa"}  # fmt: skip
        with self._post(body, "/api/enrollments (retry: first)", key=key) as response:
            first = check(response, 201, _active_paid)
        if not first:
            return
        with self._post(body, "/api/enrollments (retry: same key)", key=key) as response:
            check(response, 201, lambda again: again["id"] == first["id"], "the same enrollment")

    def with_coupon(self) -> None:
        slug, code = self.pick(self.paid), fixtures()["coupon"]
        with self.client.get(
            f"/api/courses/{slug}/coupons/{code}/quote",
            name="/api/courses/[slug]/coupons/[code]/quote",
            catch_response=True,
        ) as response:
            if not check(response, 200):
                return
        body = {"course": slug, "student": self._guest(), "payment_method": "pm_card_visa",
                "coupon": code}  # fmt: skip
        with self._post(body, "/api/enrollments (coupon)") as response:
            check(
                response,
                201,
                lambda body: _active_paid(body) and body["payment"].get("coupon") == code,
                "the coupon applied",
            )
