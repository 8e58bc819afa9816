"""The catalogue itself: every contract frame has a class; client frames parse and
serialise back; schemas refuse a missing or an extra key."""

import pytest

from portal.events import types
from tests.realtime.frames import assert_client_frame, assert_server_frame
from tests.realtime.test_event_schemas import NOT_BUILT_YET, PRODUCED_HERE


def test_the_catalogue_names_every_contract_frame():
    assert set(types.SERVER_FRAMES) == PRODUCED_HERE | NOT_BUILT_YET
    assert not PRODUCED_HERE & NOT_BUILT_YET
    assert set(types.CLIENT_FRAMES) == {"search", "resume", "watch", "unwatch", "ping"}
    assert set(types.EVENTS) == {
        "enrollment.status",
        "enrollment.created",
        "enrollment.completed",
        "progress.updated",
        "waitlist.position",
        "waitlist.offer",
        "waitlist.expired",
        "waitlist.left",
    }


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "search", "id": 3, "q": "py", "filters": {"level": "beginner"}, "limit": 5},
        {"type": "search", "id": "a"},
        {"type": "resume", "after": 0},
        {"type": "watch", "course": "intro"},
        {"type": "watch", "course": "intro", "present": True},
        {"type": "unwatch", "course": "intro"},
        {"type": "ping"},
    ],
)
def test_client_frames_parse_to_their_class_and_back(frame):
    assert_client_frame(frame)
    parsed = types.client_frame_class(frame).parse(frame)
    assert parsed.type == frame["type"]
    again = assert_client_frame(parsed.to_frame())
    assert {key: again[key] for key in frame} == frame


def test_an_event_frame_misses_no_key_and_has_no_extra_one():
    event = types.CourseSeats(course="c", seats_taken=1, capacity=None).to_frame()
    assert_server_frame(event)
    with pytest.raises(AssertionError):
        assert_server_frame({**event, "extra": 1})
    with pytest.raises(AssertionError):
        assert_server_frame({key: value for key, value in event.items() if key != "capacity"})
    with pytest.raises(TypeError):
        types.CourseSeats(course="c", seats_taken=1)  # type: ignore[call-arg]


def test_an_embedded_enrollment_is_checked_against_the_api_schema():
    with pytest.raises(AssertionError):
        assert_server_frame({"type": "enrollment.status", "seq": 1, "enrollment": {"id": 1}})
