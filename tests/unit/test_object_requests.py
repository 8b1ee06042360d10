"""The /object mail queue never blocks the handler, and the index's pure helpers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from notifications.address_index import PendingObjection, digests_of, pending_request
from notifications.addresses import address_digest, index_keys
from notifications.web_pages import PurposeSummary
from streams.objections.object_requests import ObjectMail, ObjectMailQueue

PURPOSE = PurposeSummary("ai-training", "AI training", None, None)


def mail(n: int) -> ObjectMail:
    return ObjectMail(f"p{n}@example.org", PURPOSE, f"https://x.example/o/{n}", "en")


async def test_a_full_queue_drops_and_counts_without_waiting() -> None:
    queue = ObjectMailQueue(3)
    assert [queue.offer(mail(n)) for n in range(5)] == [True, True, True, False, False]
    assert queue.counts["dropped"] == 2 and len(queue) == 3
    assert not queue.has_room()

    sent: list[str] = []

    async def send(m: ObjectMail) -> bool:
        sent.append(m.address)
        return m.address != "p1@example.org"

    drain = asyncio.ensure_future(queue.drain(send))
    await asyncio.sleep(0.05)
    drain.cancel()
    assert sent == ["p0@example.org", "p1@example.org", "p2@example.org"]
    assert (queue.counts["sent"], queue.counts["failed"]) == (2, 1)
    assert "example.org" not in repr(mail(0))  # no address in a log line or a traceback


async def test_the_drain_survives_a_failing_sender() -> None:
    queue = ObjectMailQueue(3)
    queue.offer(mail(0))
    queue.offer(mail(1))
    calls: list[int] = []

    async def send(m: ObjectMail) -> bool:
        calls.append(1)
        raise RuntimeError("bug")

    drain = asyncio.ensure_future(queue.drain(send))
    await asyncio.sleep(0.05)
    drain.cancel()
    assert len(calls) == 2 and queue.counts["failed"] == 2


def test_digests_of_an_entry_one_per_link_secret() -> None:
    keys = index_keys([b"current-secret-0123456789", b"old-secret-0123456789abc"])
    entry = {"user_id": "u1", "email": "Ana@Example.org"}
    assert digests_of(keys, entry) == sorted(address_digest(k, "ana@example.org") for k in keys)
    assert digests_of(keys, {"user_id": "u1", "email": None}) == []
    assert digests_of(keys, None) == []


def test_a_pending_objection_becomes_the_owners_request() -> None:
    kept: PendingObjection = {
        "type": "objection.request",
        "request_id": "abc",
        "channel": "email_link",
        "language": "fr",
        "received_at": datetime(2026, 1, 2, tzinfo=UTC).isoformat(),
    }
    request = pending_request("newbie", "ai-training", kept)
    assert (request.user_id, request.purposes, request.request_id) == (
        "newbie",
        ["ai-training"],
        "abc-joined",
    )
    assert request.received_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert request.reason is None
