"""The authoring API (STUDIO.md): studio reads, modules and lessons one by one, positions,
versions and conflicts, who may."""

import pytest

from catalog.models import Course, Lesson, Module
from tests.conftest import client_for
from tests.factories import make_course, make_instructor, make_user

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def module_titles(course: Course) -> list[tuple[str, int]]:
    return list(
        Module.objects.filter(course=course).order_by("position").values_list("title", "position")
    )


def lesson_titles(module_id: int) -> list[tuple[str, int]]:
    return list(
        Lesson.objects.filter(module_id=module_id)
        .order_by("position")
        .values_list("title", "position")
    )


@pytest.fixture
def course(instructor) -> Course:
    """A draft taught by `instructor`: modules "Module 1"…"Module 3", each with lessons
    "Lesson 1"…"Lesson 3"."""
    return make_course(
        title="Draft Course",
        slug="draft-course",
        instructor=instructor,
        published=False,
        modules=3,
        lessons_per_module=3,
    )


def first_module(course: Course) -> Module:
    return Module.objects.get(course=course, position=1)


# --- studio reads ----------------------------------------------------------------------


def test_studio_course_list_shows_my_courses_and_drafts_newest_first(instructor, instructor_api):
    older = make_course(title="Older", instructor=instructor, modules=2, lessons_per_module=2)
    newer = make_course(title="Newer", instructor=instructor, published=False)
    make_course(title="Someone else's")

    response = instructor_api.get("/api/studio/courses")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [c["slug"] for c in results] == [newer.slug, older.slug]
    assert [c["published"] for c in results] == [False, True]
    assert (results[1]["modules_count"], results[1]["lessons_count"]) == (2, 4)
    assert (results[0]["modules_count"], results[0]["lessons_count"]) == (0, 0)
    assert results[1]["version"] == 1
    assert results[1]["enrollment_count"] == 0
    assert results[1]["updated_at"].endswith("Z")


def test_studio_course_list_is_for_instructors_and_staff(api, student_api, staff_api, staff):
    assert_error(api.get("/api/studio/courses"), 401, "not_authenticated")
    assert_error(student_api.get("/api/studio/courses"), 403, "forbidden")
    taught = make_course(instructor=staff)
    make_course()  # staff may edit it, but it is not theirs: not on their list
    assert [c["slug"] for c in staff_api.get("/api/studio/courses").json()["results"]] == [
        taught.slug
    ]


def test_studio_course_shows_the_curriculum_with_versions(instructor_api, course):
    lesson = Lesson.objects.get(module__course=course, module__position=2, position=1)
    lesson.body = "# Hi"
    lesson.save()

    response = instructor_api.get("/api/studio/courses/draft-course")

    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    assert body["published"] is False
    assert body["published_at"] is None
    assert body["version"] == 1
    assert body["refund_policy"] == ""
    assert [(m["title"], m["position"], m["version"]) for m in body["modules"]] == [
        ("Module 1", 1, 1),
        ("Module 2", 2, 1),
        ("Module 3", 3, 1),
    ]
    entry = body["modules"][1]["lessons"][0]
    assert entry == {
        "id": lesson.id,
        "title": "Lesson 1",
        "position": 1,
        "kind": "text",
        "preview": False,
        "duration_seconds": 60,
        "version": 1,
        "has_media": False,
        "captions_count": 0,
        "resources_count": 0,
    }


def test_studio_lesson_has_the_markdown_and_its_rendering(instructor_api, course):
    lesson = Lesson.objects.get(module__course=course, module__position=1, position=2)
    response = instructor_api.patch(
        f"/api/lessons/{lesson.id}", {"body": "Some *text*"}, format="json"
    )
    assert response.status_code == 200

    response = instructor_api.get(f"/api/studio/lessons/{lesson.id}")

    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    body = response.json()
    assert body["body"] == "Some *text*"
    assert body["body_html"] == "<p>Some <em>text</em></p>\n"
    assert body["module"] == {"id": lesson.module_id, "title": "Module 1"}
    assert body["course"] == {"slug": "draft-course", "title": "Draft Course"}
    assert body["media"] is None
    assert body["resources"] == []
    assert body["version"] == 2


@pytest.mark.parametrize(
    "path",
    [
        "/api/studio/courses/draft-course",
        "/api/studio/lessons/{lesson}",
    ],
)
def test_studio_reads_answer_404_to_anyone_but_the_authors(api, student, path, course):
    lesson = Lesson.objects.filter(module__course=course).first()
    path = path.format(lesson=lesson.id)
    assert_error(api.get(path), 401, "not_authenticated")
    assert_error(client_for(make_instructor()).get(path), 404, "not_found")
    assert_error(client_for(student).get(path), 404, "not_found")
    assert client_for(make_user(is_staff=True)).get(path).status_code == 200


# --- modules -------------------------------------------------------------------------------


def test_a_module_is_appended_or_inserted(instructor_api, course):
    response = instructor_api.post(
        "/api/courses/draft-course/modules", {"title": "Appendix"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["position"], body["version"], body["lessons"]) == (
        "Appendix",
        4,
        1,
        [],
    )
    assert response["ETag"] == '"1"'

    response = instructor_api.post(
        "/api/courses/draft-course/modules", {"title": "Intro", "position": 1}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["position"] == 1
    assert module_titles(course) == [
        ("Intro", 1),
        ("Module 1", 2),
        ("Module 2", 3),
        ("Module 3", 4),
        ("Appendix", 5),
    ]
    # Those that shifted moved: their versions went up; the new one starts at 1.
    versions = dict(Module.objects.filter(course=course).values_list("title", "version"))
    assert versions == {
        "Intro": 1,
        "Module 1": 2,
        "Module 2": 2,
        "Module 3": 2,
        "Appendix": 2,
    }


def test_a_position_past_the_end_appends(instructor_api, course):
    response = instructor_api.post(
        "/api/courses/draft-course/modules", {"title": "Far", "position": 99}, format="json"
    )
    assert response.json()["position"] == 4


def test_a_module_is_renamed_and_moved(instructor_api, course):
    third = Module.objects.get(course=course, position=3)

    response = instructor_api.patch(
        f"/api/modules/{third.id}", {"title": "Finale", "position": 1, "version": 1}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["position"], body["version"]) == ("Finale", 1, 2)
    assert [lesson["title"] for lesson in body["lessons"]] == ["Lesson 1", "Lesson 2", "Lesson 3"]
    assert response["ETag"] == '"2"'
    assert module_titles(course) == [("Finale", 1), ("Module 1", 2), ("Module 2", 3)]
    # One request, one change: the move and the rename together are +1.
    assert Module.objects.get(pk=third.pk).version == 2


def test_renaming_alone_bumps_only_that_module(instructor_api, course):
    module = first_module(course)
    response = instructor_api.patch(f"/api/modules/{module.id}", {"title": "Start"}, format="json")
    assert response.json()["version"] == 2
    assert list(
        Module.objects.filter(course=course).order_by("position").values_list("version", flat=True)
    ) == [2, 1, 1]


def test_moving_a_module_to_its_own_place_changes_nothing(instructor_api, course):
    module = Module.objects.get(course=course, position=2)
    response = instructor_api.patch(f"/api/modules/{module.id}", {"position": 2}, format="json")
    assert response.json()["version"] == 1
    assert module_titles(course) == [("Module 1", 1), ("Module 2", 2), ("Module 3", 3)]


def test_deleting_a_module_takes_its_lessons_and_closes_the_gap(instructor_api, course):
    module = first_module(course)

    response = instructor_api.delete(f"/api/modules/{module.id}")

    assert response.status_code == 204
    assert module_titles(course) == [("Module 2", 1), ("Module 3", 2)]
    assert not Lesson.objects.filter(module_id=module.id).exists()
    assert Lesson.objects.filter(module__course=course).count() == 6


# --- lessons -------------------------------------------------------------------------------


def test_a_lesson_is_created_with_its_rendered_body(instructor_api, course):
    module = first_module(course)

    response = instructor_api.post(
        f"/api/modules/{module.id}/lessons",
        {
            "title": "Setup",
            "kind": "video",
            "position": 2,
            "duration_seconds": 90,
            "preview": True,
            "body": "<script>x</script> **bold**",
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["position"], body["kind"], body["preview"], body["version"]) == (
        "Setup",
        2,
        "video",
        True,
        1,
    )
    assert "<script>" not in body["body_html"]
    assert "<strong>bold</strong>" in body["body_html"]
    assert lesson_titles(module.id) == [
        ("Lesson 1", 1),
        ("Setup", 2),
        ("Lesson 2", 3),
        ("Lesson 3", 4),
    ]


def test_a_lesson_moves_within_its_module(instructor_api, course):
    module = first_module(course)
    last = Lesson.objects.get(module=module, position=3)

    response = instructor_api.patch(
        f"/api/lessons/{last.id}", {"position": 1, "version": 1}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["position"], response.json()["version"]) == (1, 2)
    assert lesson_titles(module.id) == [("Lesson 3", 1), ("Lesson 1", 2), ("Lesson 2", 3)]
    assert list(
        Lesson.objects.filter(module=module).order_by("position").values_list("version", flat=True)
    ) == [2, 2, 2]


def test_a_lesson_moves_to_another_module_of_the_course(instructor_api, course):
    source = first_module(course)
    target = Module.objects.get(course=course, position=2)
    moving = Lesson.objects.get(module=source, position=1)

    response = instructor_api.patch(
        f"/api/lessons/{moving.id}",
        {"module": target.id, "position": 2, "title": "Moved"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["module"] == {"id": target.id, "title": "Module 2"}
    assert (body["position"], body["title"], body["version"]) == (2, "Moved", 2)
    assert lesson_titles(source.id) == [("Lesson 2", 1), ("Lesson 3", 2)]
    assert lesson_titles(target.id) == [
        ("Lesson 1", 1),
        ("Moved", 2),
        ("Lesson 2", 3),
        ("Lesson 3", 4),
    ]


def test_a_lesson_moved_to_another_module_without_position_goes_last(instructor_api, course):
    moving = Lesson.objects.get(module=first_module(course), position=2)
    target = Module.objects.get(course=course, position=3)
    response = instructor_api.patch(
        f"/api/lessons/{moving.id}", {"module": target.id}, format="json"
    )
    assert response.json()["position"] == 4


def test_a_lesson_cannot_move_to_a_module_of_another_course(instructor, instructor_api, course):
    other = make_course(instructor=instructor, modules=1)
    lesson = Lesson.objects.filter(module__course=course).first()
    for module_id in (Module.objects.get(course=other).id, 999_999):
        response = instructor_api.patch(
            f"/api/lessons/{lesson.id}", {"module": module_id}, format="json"
        )
        assert assert_error(response, 400, "invalid")["fields"]["module"]
    lesson.refresh_from_db()
    assert (lesson.module.course_id, lesson.version) == (course.id, 1)


def test_deleting_a_lesson_closes_the_gap(instructor_api, course):
    module = first_module(course)
    lesson = Lesson.objects.get(module=module, position=1)
    assert instructor_api.delete(f"/api/lessons/{lesson.id}").status_code == 204
    assert lesson_titles(module.id) == [("Lesson 2", 1), ("Lesson 3", 2)]
    assert instructor_api.get(f"/api/studio/lessons/{lesson.id}").status_code == 404


def test_editing_fields_bumps_the_version_once_and_nothing_else(instructor_api, course):
    lesson = Lesson.objects.get(module=first_module(course), position=2)
    response = instructor_api.patch(
        f"/api/lessons/{lesson.id}",
        {"title": "Renamed", "preview": True, "duration_seconds": 5, "kind": "video"},
        format="json",
    )
    body = response.json()
    assert (body["title"], body["preview"], body["duration_seconds"], body["kind"]) == (
        "Renamed",
        True,
        5,
        "video",
    )
    assert body["version"] == 2
    assert list(
        Lesson.objects.filter(module=lesson.module)
        .order_by("position")
        .values_list("version", flat=True)
    ) == [1, 2, 1]
    # The same values again are no change: the version stays.
    again = instructor_api.patch(f"/api/lessons/{lesson.id}", {"title": "Renamed"}, format="json")
    assert again.json()["version"] == 2


# --- versions and conflicts ------------------------------------------------------------------


def test_a_stale_lesson_version_is_409_with_the_current_lesson(instructor_api, course):
    lesson = Lesson.objects.get(module=first_module(course), position=1)
    first_tab = instructor_api.patch(
        f"/api/lessons/{lesson.id}", {"body": "Mine", "version": 1}, format="json"
    )
    assert first_tab.json()["version"] == 2

    second_tab = instructor_api.patch(
        f"/api/lessons/{lesson.id}", {"body": "Theirs", "version": 1}, format="json"
    )

    error = assert_error(second_tab, 409, "edit_conflict")
    assert "another tab" in error["message"]
    assert error["current"]["body"] == "Mine"
    assert error["current"]["version"] == 2
    assert error["current"]["id"] == lesson.id
    lesson.refresh_from_db()
    assert (lesson.body, lesson.version) == ("Mine", 2)
    # "Keep mine (overwrite)": send again with the current version.
    again = instructor_api.patch(
        f"/api/lessons/{lesson.id}", {"body": "Theirs", "version": 2}, format="json"
    )
    assert (again.status_code, again.json()["version"]) == (200, 3)


def test_a_stale_if_match_is_409_too(instructor_api, course):
    module = first_module(course)
    response = instructor_api.patch(
        f"/api/modules/{module.id}", {"title": "X"}, format="json", HTTP_IF_MATCH='"7"'
    )
    error = assert_error(response, 409, "edit_conflict")
    assert error["current"]["title"] == "Module 1"
    assert error["current"]["version"] == 1
    ok = instructor_api.patch(
        f"/api/modules/{module.id}", {"title": "X"}, format="json", HTTP_IF_MATCH='W/"1"'
    )
    assert ok.status_code == 200
    assert ok["ETag"] == '"2"'


def test_a_move_by_someone_else_makes_the_lessons_version_stale(instructor_api, course):
    module = first_module(course)
    first, second = Lesson.objects.filter(module=module).order_by("position")[:2]
    # Another tab moves `second` before `first`: `first` moved too.
    instructor_api.patch(f"/api/lessons/{second.id}", {"position": 1}, format="json")
    response = instructor_api.patch(
        f"/api/lessons/{first.id}", {"title": "Edited", "version": 1}, format="json"
    )
    error = assert_error(response, 409, "edit_conflict")
    assert error["current"]["position"] == 2


def test_a_stale_course_version_is_409_with_the_current_course(instructor_api, course):
    response = instructor_api.patch(
        "/api/courses/draft-course",
        {"title": "New title", "refund_policy": "30 days.", "version": 1},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["refund_policy"], body["version"]) == (
        "New title",
        "30 days.",
        2,
    )
    assert response["ETag"] == '"2"'

    stale = instructor_api.patch(
        "/api/courses/draft-course", {"summary": "Other", "version": 1}, format="json"
    )
    error = assert_error(stale, 409, "edit_conflict")
    assert error["current"]["title"] == "New title"
    assert error["current"]["version"] == 2
    assert Course.objects.get(pk=course.pk).summary != "Other"


# --- who may -------------------------------------------------------------------------------


def _writes(course: Course) -> list[tuple[str, str, dict | None]]:
    module = first_module(course)
    lesson = Lesson.objects.filter(module=module).first()
    return [
        ("post", "/api/courses/draft-course/modules", {"title": "M"}),
        ("patch", f"/api/modules/{module.id}", {"title": "M"}),
        ("delete", f"/api/modules/{module.id}", None),
        ("post", f"/api/modules/{module.id}/lessons", {"title": "L"}),
        ("patch", f"/api/lessons/{lesson.id}", {"title": "L"}),
        ("delete", f"/api/lessons/{lesson.id}", None),
        ("post", "/api/courses/draft-course/publish", None),
        ("post", "/api/courses/draft-course/unpublish", None),
        ("delete", f"/api/lessons/{lesson.id}/media", None),
    ]


def test_writes_answer_404_to_other_instructors_and_students(student, course):
    before = (
        list(Module.objects.values_list("id", "title", "position", "version")),
        list(Lesson.objects.values_list("id", "title", "position", "version")),
    )
    for client in (client_for(make_instructor()), client_for(student)):
        for method, path, body in _writes(course):
            response = getattr(client, method)(path, body, format="json")
            assert_error(response, 404, "not_found")
    assert before == (
        list(Module.objects.values_list("id", "title", "position", "version")),
        list(Lesson.objects.values_list("id", "title", "position", "version")),
    )


def test_writes_answer_401_to_the_anonymous(api, course):
    for method, path, body in _writes(course):
        assert_error(getattr(api, method)(path, body, format="json"), 401, "not_authenticated")


def test_a_co_instructor_and_staff_may_edit(course):
    co_instructor = make_instructor()
    course.course_instructors.create(user=co_instructor, position=1)
    module = first_module(course)
    for user in (co_instructor, make_user(is_staff=True)):
        response = client_for(user).patch(
            f"/api/modules/{module.id}", {"title": f"By {user.pk}"}, format="json"
        )
        assert response.status_code == 200


def test_unknown_ids_are_404(instructor_api):
    assert_error(instructor_api.patch("/api/modules/999999", {}, format="json"), 404, "not_found")
    assert_error(instructor_api.delete("/api/lessons/999999"), 404, "not_found")
    assert_error(
        instructor_api.post("/api/modules/999999/lessons", {"title": "x"}, format="json"),
        404,
        "not_found",
    )
    assert_error(instructor_api.get("/api/studio/courses/nope"), 404, "not_found")


# --- bad input: 400, never 500 -------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "body", "field"),
    [
        ("module", {"title": ""}, "title"),
        ("module", {"title": "a\nb"}, "title"),
        ("module", {"position": 0}, "position"),
        ("module", {"position": "2"}, "position"),
        ("module", {"version": "1"}, "version"),
        ("module", {"colour": "red"}, "colour"),
        ("lesson", {"kind": "podcast"}, "kind"),
        ("lesson", {"duration_seconds": -1}, "duration_seconds"),
        ("lesson", {"preview": "yes"}, "preview"),
        ("lesson", {"body": 5}, "body"),
        ("lesson", {"body": "x" * 50_001}, "body"),
        ("lesson", {"module": "abc"}, "module"),
        ("lesson", {"version": 0}, "version"),
        ("lesson", {"position": 1.5}, "position"),
        ("new-module", {}, "title"),
        ("new-lesson", {"title": "ok", "position": -3}, "position"),
        ("new-lesson", {"title": 7}, "title"),
    ],
)
def test_bad_input_is_400_invalid(instructor_api, course, target, body, field):
    module = first_module(course)
    lesson = Lesson.objects.filter(module=module).first()
    method, path = {
        "module": ("patch", f"/api/modules/{module.id}"),
        "lesson": ("patch", f"/api/lessons/{lesson.id}"),
        "new-module": ("post", "/api/courses/draft-course/modules"),
        "new-lesson": ("post", f"/api/modules/{module.id}/lessons"),
    }[target]
    response = getattr(instructor_api, method)(path, body, format="json")
    error = assert_error(response, 400, "invalid")
    assert field in error["fields"]


def test_a_body_that_is_not_an_object_is_400(instructor_api, course):
    module = first_module(course)
    for body in ("[1, 2]", '"text"', "{broken"):
        response = instructor_api.generic(
            "PATCH", f"/api/modules/{module.id}", body, content_type="application/json"
        )
        assert_error(response, 400, "invalid")


@pytest.mark.parametrize(("start", "target_position"), [(1, 1), (2, 2), (3, 1), (2, None)])
def test_moves_between_modules_from_and_to_every_place(
    instructor_api, course, start, target_position
):
    """The moving lesson's parked position never meets a new sibling's (same number)."""
    source = first_module(course)
    target = Module.objects.get(course=course, position=2)
    moving = Lesson.objects.get(module=source, position=start)
    body = {"module": target.id}
    if target_position is not None:
        body["position"] = target_position
    response = instructor_api.patch(f"/api/lessons/{moving.id}", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["position"] == (target_position or 4)
    assert [p for _, p in lesson_titles(source.id)] == [1, 2]
    assert [p for _, p in lesson_titles(target.id)] == [1, 2, 3, 4]


def test_a_course_patch_of_the_same_values_keeps_the_version(instructor_api, course):
    same = instructor_api.patch(
        "/api/courses/draft-course", {"title": "Draft Course", "published": False}, format="json"
    )
    assert (same.status_code, same.json()["version"]) == (200, 1)
    changed = instructor_api.patch(
        "/api/courses/draft-course", {"title": "Draft Course", "price": "5.00"}, format="json"
    )
    assert (changed.json()["version"], changed.json()["price"]) == (2, "5.00")


def test_writes_to_a_published_course_not_yours_are_404_too(instructor_api):
    course = make_course(modules=1, lessons_per_module=1)  # published, someone else's
    module = Module.objects.get(course=course)
    lesson = Lesson.objects.get(module=module)
    for method, path, body in [
        ("get", f"/api/studio/courses/{course.slug}", None),
        ("patch", f"/api/modules/{module.id}", {"title": "Mine now"}),
        ("patch", f"/api/lessons/{lesson.id}", {"title": "Mine now"}),
        ("post", f"/api/courses/{course.slug}/unpublish", None),
    ]:
        assert_error(getattr(instructor_api, method)(path, body, format="json"), 404, "not_found")
    assert Course.objects.get(pk=course.pk).is_published


def test_studio_reads_cost_a_fixed_number_of_queries(
    instructor, instructor_api, django_assert_max_num_queries
):
    for _ in range(3):
        make_course(instructor=instructor, modules=3, lessons_per_module=4)
    course = make_course(instructor=instructor, slug="big", modules=6, lessons_per_module=6)
    with django_assert_max_num_queries(8):
        assert len(instructor_api.get("/api/studio/courses").json()["results"]) == 4
    with django_assert_max_num_queries(10):
        body = instructor_api.get("/api/studio/courses/big").json()
    assert sum(len(m["lessons"]) for m in body["modules"]) == 36
    assert course.slug == body["slug"]
