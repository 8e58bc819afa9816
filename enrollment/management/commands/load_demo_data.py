"""Load the deterministic demo catalog and the contract's demo accounts.

manage.py load_demo_data                    # 2,000 courses
manage.py load_demo_data --courses 100000   # benchmark-sized, bulk inserts
manage.py load_demo_data --if-empty         # what the run command does
manage.py load_demo_data --reset            # replace the catalog
"""

import time
from itertools import islice
from typing import TextIO, cast

from django.contrib.auth.hashers import make_password
from django.core.files import File
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from catalog import cache as catalog_cache
from catalog.demo import (
    DEMO_CAPTIONS,
    DEMO_FILES,
    DEMO_INSTRUCTOR_EMAIL,
    DEMO_PASSWORD,
    DEMO_STUDENT_EMAIL,
    DEMO_VIDEO,
    DEMO_VIDEO_TYPE,
    CourseSpec,
    demo_account_courses,
    generate_courses,
    instructor_count_for,
    instructor_identity,
)
from catalog.media.storage import guess_content_type
from catalog.models import (
    Course,
    CourseInstructor,
    Lesson,
    LessonCaption,
    LessonResource,
    Module,
)
from enrollment.models import Enrollment, LessonProgress, Payment, Student
from portal.accounts.models import User

DEMO_ADMIN_EMAIL = "admin@example.com"


# Statistics are refreshed each time the catalog doubles (2,000, 4,000 … courses) while it
# loads: the search triggers look up each batch's modules and lessons, and on statistics
# that still say "empty" a load here fell from 150 to 20 courses/s by 15,000 courses where
# autovacuum was off (230/s again right after an ANALYZE).
ANALYZE_FIRST_AT = 2000


class Command(BaseCommand):
    help = "Load a realistic, deterministic demo catalog and the demo accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--courses", type=int, default=2000, help="How many courses.")
        parser.add_argument("--seed", type=int, default=2026, help="Catalog seed.")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when courses exist already."
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete every course, enrollment and payment first.",
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, **options) -> None:
        count: int = options["courses"]
        if count < 0:
            raise CommandError("--courses must be zero or more.")
        existing = Course.objects.count()
        if existing and options["if_empty"]:
            self._ensure_accounts()
            self._store_demo_files()
            self.stdout.write(f"Catalog already has {existing} courses; demo data left as is.")
            self._print_logins()
            return
        if existing and not options["reset"]:
            raise CommandError(
                f"The catalog already has {existing} courses. Use --reset to replace them "
                "or --if-empty to keep them."
            )
        started = time.monotonic()
        if existing:
            self._delete_catalog()
        demo_instructor = self._ensure_accounts()
        self._store_demo_files()
        instructors = self._ensure_instructors(instructor_count_for(count))
        owners = {-1: demo_instructor, **dict(enumerate(instructors))}
        specs = [
            *demo_account_courses(),
            *generate_courses(count=count, seed=options["seed"], instructors=len(instructors)),
        ]
        bar = tqdm(
            total=len(specs),
            unit="course",
            desc="Loading demo catalog",
            disable=options["no_progress"],
            # The wrapped stream (the stubs know OutputWrapper's only through __getattr__).
            file=cast(TextIO, self.stderr._out),
        )
        iterator = iter(specs)
        loaded, analyze_at = 0, ANALYZE_FIRST_AT
        while batch := list(islice(iterator, options["batch_size"])):
            self._insert_batch(batch, owners)
            bar.update(len(batch))
            loaded += len(batch)
            if loaded >= analyze_at:  # the search triggers' lookups plan on true sizes
                self._after_load()
                analyze_at *= 2
        bar.close()
        catalog_cache.invalidate_now([])
        self._after_load()
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {len(specs)} courses, {Module.objects.count()} modules and "
                f"{Lesson.objects.count()} lessons by {len(instructors) + 1} instructors "
                f"in {elapsed:.1f}s."
            )
        )
        self._print_logins()

    # --- accounts -------------------------------------------------------------------

    def _ensure_accounts(self) -> User:
        instructor = self._ensure_user(DEMO_INSTRUCTOR_EMAIL, "Grace Hopper", is_instructor=True)
        student_user = self._ensure_user(DEMO_STUDENT_EMAIL, "Sam Student")
        self._ensure_user(DEMO_ADMIN_EMAIL, "Portal Admin", is_staff=True, is_superuser=True)
        Student.objects.update_or_create(
            user=student_user, defaults={"name": student_user.name, "email": DEMO_STUDENT_EMAIL}
        )
        return instructor

    def _ensure_user(self, email: str, name: str, **flags) -> User:
        defaults = {"name": name, "email_verified_at": timezone.now(), **flags}
        user, created = User.objects.get_or_create(email=email, defaults=defaults)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _ensure_instructors(self, count: int) -> list[User]:
        identities = [instructor_identity(index) for index in range(count)]
        emails = [email for _, email in identities]
        have = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
        password = make_password(DEMO_PASSWORD)  # hashed once: hashing is deliberately slow
        User.objects.bulk_create(
            [
                User(
                    email=email,
                    name=name,
                    is_instructor=True,
                    password=password,
                    email_verified_at=timezone.now(),
                )
                for name, email in identities
                if email not in have
            ],
            batch_size=1000,
        )
        by_email = {user.email: user for user in User.objects.filter(email__in=emails)}
        return [by_email[email] for email in emails]

    def _print_logins(self) -> None:
        self.stdout.write(
            "Demo logins (password for each: portal-demo):\n"
            f"  instructor  {DEMO_INSTRUCTOR_EMAIL}\n"
            f"  student     {DEMO_STUDENT_EMAIL}\n"
            f"  staff       {DEMO_ADMIN_EMAIL}  (also /admin/)"
        )

    # --- catalog --------------------------------------------------------------------

    @transaction.atomic
    def _insert_batch(self, specs: list[CourseSpec], owners: dict[int, User]) -> None:
        courses = Course.objects.bulk_create(
            Course(
                slug=spec.slug,
                title=spec.title,
                summary=spec.summary,
                description=spec.description,
                category=spec.category,
                level=spec.level,
                price=spec.price,
                currency=spec.currency,
                capacity=spec.capacity,
                rating=spec.rating,
                published_at=spec.published_at,
            )
            for spec in specs
        )
        CourseInstructor.objects.bulk_create(
            CourseInstructor(course=course, user=owners[spec.instructor_index], position=0)
            for course, spec in zip(courses, specs, strict=True)
        )
        module_specs = [
            (course, spec_module, position)
            for course, spec in zip(courses, specs, strict=True)
            for position, spec_module in enumerate(spec.modules, start=1)
        ]
        modules = Module.objects.bulk_create(
            Module(course=course, title=module.title, position=position)
            for course, module, position in module_specs
        )
        lesson_specs = [
            (module, position, lesson)
            for module, (_, module_spec, _) in zip(modules, module_specs, strict=True)
            for position, lesson in enumerate(module_spec.lessons, start=1)
        ]
        lessons = Lesson.objects.bulk_create(
            (
                Lesson(
                    module=module,
                    title=lesson.title,
                    position=position,
                    duration_seconds=lesson.duration_seconds,
                    kind=lesson.kind,
                    preview=lesson.preview,
                    body=lesson.body,
                    body_html=lesson.body_html,
                    # Every demo video lesson shows the one stored demo video.
                    media=DEMO_VIDEO if lesson.is_video else "",
                    media_content_type=DEMO_VIDEO_TYPE if lesson.is_video else "",
                )
                for module, position, lesson in lesson_specs
            ),
            batch_size=2000,
        )
        LessonCaption.objects.bulk_create(
            LessonCaption(lesson=row, lang="en", label="English", file=DEMO_CAPTIONS)
            for row, (_, _, lesson) in zip(lessons, lesson_specs, strict=True)
            if lesson.is_video
        )
        LessonResource.objects.bulk_create(
            LessonResource(
                lesson=row,
                title=resource.title,
                file=resource.name,
                size=DEMO_FILES[resource.name].stat().st_size,
                content_type=guess_content_type(resource.name),
                position=position,
            )
            for row, (_, _, lesson) in zip(lessons, lesson_specs, strict=True)
            for position, resource in enumerate(lesson.resources, start=1)
        )

    def _store_demo_files(self) -> None:
        """The demo video, captions and resource, stored once under fixed names (on S3
        too): lessons refer to them by name."""
        storage = storages["default"]
        for name, path in DEMO_FILES.items():
            if storage.exists(name):
                continue
            with path.open("rb") as source:
                stored = storage.save(name, File(source, name=path.name))
            if stored != name:
                raise CommandError(f"Stored {path.name} as {stored}, not {name}.")

    def _delete_catalog(self) -> None:
        self.stdout.write("Deleting the existing catalog, enrollments and payments…")
        models = [
            LessonProgress,
            Payment,
            Enrollment,
            LessonCaption,
            LessonResource,
            Lesson,
            Module,
            CourseInstructor,
            Course,
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
                cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            else:
                for model in models:
                    cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608

    def _after_load(self) -> None:
        """Refresh planner statistics so the first queries on a big catalog plan well."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Course, CourseInstructor, Module, Lesson, LessonCaption):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
