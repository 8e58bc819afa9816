"""publish_to_users: every seq from one cursor statement, every row from one insert, every
message sent after commit (none on rollback); frames travel pre-encoded and reach the
socket byte for byte as the consumer would have encoded them; a seq already sent is not
sent again."""

import pytest
from channels.db import database_sync_to_async as sync_to_async
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portal.events.models import EventCursor, UserEvent
from portal.events.publish import (
    EVENT_MESSAGE_TYPE,
    event_message,
    frame_text,
    publish_to_user,
    publish_to_users,
    user_group,
)
from tests.factories import make_user
from tests.realtime.helpers import bearer, connected, numbered_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def statements(queries, table: str) -> list[str]:
    return [query["sql"] for query in queries if table in query["sql"]]


async def test_many_users_get_consecutive_seqs_from_one_statement_and_every_socket_gets_them():
    alice, bob, carol = [await sync_to_async(make_user)() for _ in range(3)]
    await sync_to_async(EventCursor.objects.create)(user=bob, last_seq=5)
    sockets = {
        user.pk: (await connected(token=await sync_to_async(bearer)(user)))[0]
        for user in (alice, bob, carol)
    }
    # Not in id order, and alice twice: she gets two consecutive seqs, in this order.
    told = [(carol.pk, 10), (alice.pk, 11), (bob.pk, 12), (alice.pk, 13)]

    def publish():
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            rows = publish_to_users(events=[(user, numbered_event(n)) for user, n in told])
        return rows, queries.captured_queries

    rows, queries = await sync_to_async(publish)()

    assert [(row.user_id, row.seq, row.payload["lesson"]) for row in rows] == [
        (carol.pk, 1, 10),
        (alice.pk, 1, 11),
        (bob.pk, 6, 12),
        (alice.pk, 2, 13),
    ]
    assert len(statements(queries, EventCursor._meta.db_table)) == 1
    assert len(statements(queries, UserEvent._meta.db_table)) == 1
    for user, expected in ((alice, [(1, 11), (2, 13)]), (bob, [(6, 12)]), (carol, [(1, 10)])):
        frames = [await sockets[user.pk].receive_json_from(timeout=5) for _ in expected]
        assert [(frame["seq"], frame["lesson"]) for frame in frames] == expected
        assert await sockets[user.pk].receive_nothing(timeout=0.2)
    assert await sync_to_async(
        lambda: dict(EventCursor.objects.values_list("user_id", "last_seq"))
    )() == {alice.pk: 2, bob.pk: 6, carol.pk: 1}
    for socket in sockets.values():
        await socket.disconnect()


async def test_a_rolled_back_bulk_publish_writes_and_delivers_nothing():
    alice, bob = [await sync_to_async(make_user)() for _ in range(2)]
    sockets = [(await connected(token=await sync_to_async(bearer)(u)))[0] for u in (alice, bob)]

    def publish_then_roll_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            publish_to_users(events=[(alice.pk, numbered_event(0)), (bob.pk, numbered_event(1))])
            raise RuntimeError("roll back")

    await sync_to_async(publish_then_roll_back)()

    for socket in sockets:
        assert await socket.receive_nothing(timeout=0.5)
        await socket.disconnect()
    assert not await sync_to_async(UserEvent.objects.exists)()
    assert not await sync_to_async(EventCursor.objects.filter(last_seq__gt=0).exists)()


async def test_the_pre_encoded_frame_arrives_byte_for_byte_as_the_consumer_would_send_it():
    user = await sync_to_async(make_user)()
    socket, _ = await connected(token=await sync_to_async(bearer)(user))

    def publish():
        with transaction.atomic():
            return publish_to_user(user_id=user.pk, event=numbered_event(7))

    row = await sync_to_async(publish)()
    pre_encoded = await socket.receive_from(timeout=5)
    # The older message shape (a frame the consumer encodes itself) for the next seq.
    frame = {**event_message(row), "seq": row.seq + 1}
    await get_channel_layer().group_send(
        user_group(user.pk), {"type": EVENT_MESSAGE_TYPE, "message": frame}
    )
    encoded_by_the_consumer = await socket.receive_from(timeout=5)

    assert pre_encoded == frame_text(event_message(row))
    assert encoded_by_the_consumer == frame_text(frame)
    assert pre_encoded == encoded_by_the_consumer.replace(
        f'"seq":{row.seq + 1}', f'"seq":{row.seq}'
    )
    await socket.disconnect()


async def test_a_pre_encoded_event_already_sent_is_not_sent_again():
    user = await sync_to_async(make_user)()
    socket, _ = await connected(token=await sync_to_async(bearer)(user))

    def publish(n: int):
        with transaction.atomic():
            return publish_to_user(user_id=user.pk, event=numbered_event(n))

    row = await sync_to_async(publish)(0)
    first = await socket.receive_from(timeout=5)
    # The same event again (a resume sent it, or the layer repeated it): dropped by its
    # seq; the next event, sent after it through the same group, is what arrives next.
    await get_channel_layer().group_send(
        user_group(user.pk),
        {"type": EVENT_MESSAGE_TYPE, "seq": row.seq, "text": frame_text(event_message(row))},
    )
    following = await sync_to_async(publish)(1)

    assert first == frame_text(event_message(row))
    assert await socket.receive_from(timeout=5) == frame_text(event_message(following))
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()
