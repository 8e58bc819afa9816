"""Run in a process of its own, configured by environment with a read replica
(DATABASE_REPLICA_URL: a copy of the primary whose course titles are marked): where each
kind of read and write of the course `argv[1]` goes, printed as JSON."""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")
django.setup()

from django.db import router, transaction  # noqa: E402

from catalog.models import Course  # noqa: E402
from portal import db_router  # noqa: E402
from portal.accounts.models import User  # noqa: E402


def main(pk: int) -> dict:
    def title() -> str:
        return Course.objects.get(pk=pk).title

    found: dict = {"outside_a_request": title()}
    with db_router.replica_reads():
        found["catalog_read"] = title()
        course = Course.objects.get(pk=pk)
        found["read_from"] = course._state.db
        found["relation_read_from"] = course.course_instructors.all()[0]._state.db
        found["other_models_read_from"] = User.objects.all()[0]._state.db
        with transaction.atomic():
            found["in_a_transaction"] = title()
            found["select_for_update"] = Course.objects.select_for_update().get(pk=pk).title
        course.summary = "saved from an object read on the replica"
        course.save(update_fields=["summary"])
        found["saved_to"] = course._state.db
        found["count_after_save"] = Course.objects.filter(summary=course.summary).count()
    with db_router.replica_reads(pinned=lambda: True):  # the client wrote a moment ago
        found["pinned"] = title()
    found["migrate_replica"] = router.allow_migrate("replica", "catalog")
    found["migrate_default"] = router.allow_migrate("default", "catalog")
    return found


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
