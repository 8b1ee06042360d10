"""The address index on in-memory tables: an ``/object`` objection reaches the account.

The records the hooks and the agent write are fed back to the agent, as the
compacted topic would, so that each test follows an address from the
directory to ``preavis.objection-requests``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from notifications.address_index import AddressIndexEntry, OwnedDigests
from notifications.addresses import address_digest, index_keys, pseudonymous_user_id
from notifications.internal_events import (
    TOPIC_ADDRESS_INDEX,
    TOPIC_OBJECTION_REQUESTS,
    ObjectionRequest,
    decode_internal,
)
from notifications.links import TokenClaims
from notifications.objection_reasons import RecordPosition
from streams.objections.address_events import (
    AddressIndexed,
    AddressObjection,
    AddressReleased,
    decode_address_record,
)
from streams.objections.address_index import (
    AddressIndexPorts,
    handle_address_record,
    on_user_changed,
    released_on_erasure,
)
from streams.objections.handlers import IntakePorts, handle_request, submit_objection
from tests.support.fakes import MemoryTable, RecordingTopic
from tests.support.objection_flow import Flow

KEYS = index_keys([b"current-link-secret-0123456789", b"older-link-secret-0123456789ab"])
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@dataclass
class Index:
    index: MemoryTable[AddressIndexEntry] = field(default_factory=MemoryTable)
    owners: MemoryTable[OwnedDigests] = field(default_factory=MemoryTable)
    topic: RecordingTopic = field(default_factory=lambda: RecordingTopic(TOPIC_ADDRESS_INDEX))
    requests: RecordingTopic = field(
        default_factory=lambda: RecordingTopic(TOPIC_OBJECTION_REQUESTS)
    )
    applied: int = 0

    @property
    def ports(self) -> AddressIndexPorts:
        return AddressIndexPorts(
            keys=KEYS,
            index=self.index,
            owners=self.owners,
            index_topic=self.topic,
            requests=self.requests,
        )

    @property
    def intake(self) -> IntakePorts:
        return IntakePorts(requests=self.requests, address_index=self.topic)

    async def run_agent(self) -> None:
        """Apply what reached the index topic since the last run, in order."""
        while self.applied < len(self.topic.sent):
            sent = self.topic.sent[self.applied]
            self.applied += 1
            await handle_address_record(
                self.ports, decode_address_record(TOPIC_ADDRESS_INDEX, sent.key, sent.value)
            )

    def forwarded(self) -> list[ObjectionRequest]:
        return [
            decode_internal(TOPIC_OBJECTION_REQUESTS, s.key, s.value) for s in self.requests.sent
        ]


def digests(address: str) -> list[str]:
    return sorted(address_digest(key, address) for key in KEYS)


async def object_by_address(index: Index, address: str, reason: str | None = None) -> None:
    """What ``POST /o/{token}`` does with the link ``/object`` emailed to ``address``."""
    claims = TokenClaims(pseudonymous_user_id(KEYS[0], address), ("ai-training",), None, "fr")
    await submit_objection(index.intake, claims, "email_link", reason, request_id="req1", now=WHEN)


async def test_an_address_objection_maps_via_the_index_to_the_account() -> None:
    index = Index()
    await on_user_changed(index.ports, "marie", {"user_id": "marie", "email": "Marie@Example.org"})
    assert index.owners.data["marie"] == digests("marie@example.org")  # one per link secret
    await index.run_agent()

    await object_by_address(index, "marie@example.org")
    [sent] = index.topic.sent[-1:]
    assert sent.key == address_digest(KEYS[0], "marie@example.org").encode()
    assert index.requests.sent == []  # the pseudonym never goes straight to the objections
    await index.run_agent()

    [forwarded] = index.forwarded()
    assert (forwarded.user_id, forwarded.purposes, forwarded.channel) == (
        "marie",
        ["ai-training"],
        "email_link",
    )
    # and the objections agent excludes the account, not the pseudonym
    flow = Flow()
    position = RecordPosition(TOPIC_OBJECTION_REQUESTS, 0, 0)
    await handle_request(flow.ports, forwarded, position)
    assert [key for key, _ in flow.published()] == [b"marie"]


async def test_an_address_of_nobody_is_recorded_under_the_pseudonym_then_joins() -> None:
    index = Index()
    await object_by_address(index, "newbie@example.org", reason="my own words")
    await index.run_agent()

    [under_pseudonym] = index.forwarded()
    assert under_pseudonym.user_id == pseudonymous_user_id(KEYS[0], "newbie@example.org")
    assert under_pseudonym.reason == "my own words"
    digest = address_digest(KEYS[0], "newbie@example.org")
    kept = index.index.data[digest]
    assert kept.get("user_id") is None
    assert "reason" not in (kept.get("pending") or {})["ai-training"]  # no free text kept
    assert index.topic.sent[-1].value is None  # the reason's record is tombstoned on the topic

    await on_user_changed(index.ports, "newbie", {"email": "newbie@example.org"})
    await index.run_agent()
    joined = index.forwarded()[-1]
    assert (joined.user_id, joined.request_id, joined.reason) == ("newbie", "req1-joined", None)
    assert index.index.data[digest] == {"user_id": "newbie"}
    # nothing pending any more: indexing again forwards nothing
    count = len(index.requests.sent)
    await handle_address_record(index.ports, AddressIndexed(digest=digest, user_id="newbie"))
    assert len(index.requests.sent) == count


async def test_a_changed_address_is_released_and_a_stale_release_releases_nothing() -> None:
    index = Index()
    await on_user_changed(index.ports, "marie", {"email": "marie@example.org"})
    await on_user_changed(index.ports, "marie", {"email": "marie@example.org"})  # no change
    assert len(index.topic.sent) == len(KEYS)
    await index.run_agent()

    await on_user_changed(index.ports, "marie", {"email": "marie@new.example"})
    released = [
        decode_address_record(TOPIC_ADDRESS_INDEX, s.key, s.value) for s in index.topic.sent
    ]
    assert [type(r).__name__ for r in released[len(KEYS) :]] == [
        *["AddressReleased"] * len(KEYS),
        *["AddressIndexed"] * len(KEYS),
    ]
    await index.run_agent()
    old = digests("marie@example.org")
    assert all(d not in index.index for d in old)
    assert all(index.index.data[d] == {"user_id": "marie"} for d in digests("marie@new.example"))

    # another user's release of marie's digest (late, out of order) releases nothing
    new = digests("marie@new.example")[0]
    await handle_address_record(index.ports, AddressReleased(digest=new, user_id="someone"))
    assert index.index.data[new] == {"user_id": "marie"}


async def test_erasure_releases_the_users_digests_once() -> None:
    index = Index()
    await on_user_changed(index.ports, "marie", {"email": "marie@example.org"})
    await index.run_agent()

    releases = released_on_erasure(index.owners, "marie")
    assert sorted(r.digest for r in releases) == digests("marie@example.org")
    assert "marie" not in index.owners and released_on_erasure(index.owners, "marie") == []
    for release in releases:
        await handle_address_record(index.ports, release)
    assert not index.index.data
    assert [s.value for s in index.topic.sent[-len(KEYS) :]] == [None] * len(KEYS)


async def test_an_objection_for_an_owned_address_keeps_nothing_pending() -> None:
    index = Index()
    digest = address_digest(KEYS[0], "marie@example.org")
    index.index[digest] = {"user_id": "marie"}
    request = ObjectionRequest(
        request_id="r",
        user_id=pseudonymous_user_id(KEYS[0], "marie@example.org"),
        purposes=["ai-training"],
        channel="email_link",
        received_at=WHEN,
    )
    await handle_address_record(index.ports, AddressObjection(digest=digest, request=request))
    assert [r.user_id for r in index.forwarded()] == ["marie"]
    assert index.index.data[digest] == {"user_id": "marie"}
    assert index.topic.sent == []  # no reason: nothing to tombstone
