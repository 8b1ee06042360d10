"""The objection flow on in-memory tables and recording topics, without a broker.

What the subprocess tests prove on the real broker (tests/integration/
test_objection_loop.py), here record by record: a request records
``objection.recorded`` once, excludes the user in ``training.exclusions``
(their whole list, lifted by a withdrawal, a tombstone when empty), counts the
objection for the campaigns that cover its purpose and hands one confirmation
to the mailer; an objection preavis wrote, read back, changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from notifications import topic_names as names
from notifications.events import ObjectionRecorded, ObjectionWithdrawn
from notifications.internal_events import (
    TOPIC_OBJECTION_REQUESTS,
    ObjectionRequest,
    decode_internal,
)
from notifications.links import TokenClaims
from notifications.objection_reasons import RecordPosition
from notifications.objections import REASON_MAX_CHARS
from streams.objections.handlers import (
    IntakePorts,
    handle_platform_record,
    handle_request,
    submit_objection,
)
from streams.objections.reasons import forget_reasons
from tests.support.fakes import RecordingTopic
from tests.support.objection_flow import Flow

WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PARTITION = 3
SOURCE = RecordPosition(TOPIC_OBJECTION_REQUESTS, PARTITION, 41)
CAMPAIGN = "purpose:ai-training:v1"
NEW_YEAR = "2026-01-01T00:00:00+00:00"


def request(request_id: str, *purposes: str, reason: str | None = None) -> ObjectionRequest:
    return ObjectionRequest(
        request_id=request_id,
        user_id="camille",
        purposes=list(purposes),
        campaign_id=CAMPAIGN,
        channel="email_link",
        language="en",
        reason=reason,
        received_at=WHEN,
    )


def camille_with_campaigns() -> Flow:
    flow = Flow()
    flow.directory["camille"] = {
        "user_id": "camille",
        "email": "camille@example.org",
        "locale": "fr-BE",
        "country": "BE",
    }
    flow.shards[str(PARTITION)] = {
        CAMPAIGN: {"kind": "purpose", "change": {"purpose_id": "ai-training"}},
        "terms:tos:2026-03": {"kind": "terms", "change": {"purposes_added": ["ai-training"]}},
        "purpose:ads:v2": {"kind": "purpose", "change": {"purpose_id": "ads"}},
    }
    return flow


async def test_a_request_records_excludes_counts_and_confirms_once() -> None:
    flow = camille_with_campaigns()

    await handle_request(flow.ports, request("r1", "ai-training", "ai-training"), SOURCE)

    [event] = flow.recorded()
    assert (event.objection_id, event.user_id, event.purpose_id) == (
        "r1-ai-training",
        "camille",
        "ai-training",
    )
    assert (event.campaign_id, event.channel, event.received_at) == (CAMPAIGN, "email_link", WHEN)
    assert [(s.key, s.partition) for s in flow.proof.sent] == [(b"camille", PARTITION)]
    assert flow.objections.data["camille"]["ai-training"]["objection_id"] == "r1-ai-training"
    [(key, exclusion)] = flow.published()
    assert key == b"camille" and exclusion is not None
    assert (exclusion.purposes, exclusion.reasons) == (
        ["ai-training"],
        {"ai-training": "objection"},
    )
    assert exclusion.since == WHEN
    # every campaign of the partition whose purposes it covers, not the one about ads
    assert [(c.campaign_id, c.purpose_id, c.country, c.language) for c in flow.counted()] == [
        (CAMPAIGN, "ai-training", "BE", "fr"),
        ("terms:tos:2026-03", "ai-training", "BE", "fr"),
    ]
    [confirmation] = flow.confirmations
    assert (confirmation.to_address, confirmation.purposes, confirmation.locale) == (
        "camille@example.org",
        ["ai-training"],
        "fr-BE",
    )
    assert "camille@example.org" not in repr(confirmation)

    before = flow.everything_written()
    await handle_request(flow.ports, request("r2", "ai-training"), SOURCE)  # a second click
    assert flow.everything_written() == before


async def test_only_the_new_purposes_of_a_request_are_recorded() -> None:
    flow = camille_with_campaigns()
    await handle_request(flow.ports, request("r1", "ai-training"), SOURCE)
    await handle_request(flow.ports, request("r2", "ai-training", "ads"), SOURCE)

    assert [e.objection_id for e in flow.recorded()] == ["r1-ai-training", "r2-ads"]
    assert [c.purposes for c in flow.confirmations] == [["ai-training"], ["ads"]]
    [_, (_, whole)] = flow.published()
    assert whole is not None and whole.purposes == ["ads", "ai-training"]  # the whole list


async def test_a_user_without_an_address_is_recorded_without_an_email() -> None:
    flow = Flow()
    await handle_request(flow.ports, request("r1", "ai-training"), SOURCE)
    assert len(flow.recorded()) == 1 and len(flow.published()) == 1
    assert flow.confirmations == []
    # without a campaign in the registry, the campaign the link named still counts it
    assert [c.campaign_id for c in flow.counted()] == [CAMPAIGN]
    assert (flow.counted()[0].country, flow.counted()[0].language) == (None, None)


async def test_the_reason_stays_off_the_proof_and_goes_with_erasure() -> None:
    flow = camille_with_campaigns()
    await handle_request(flow.ports, request("r1", "ai-training", reason="  no thanks "), SOURCE)

    [event] = flow.recorded()
    assert event.reason is None
    kept = flow.reasons.data["camille"]["r1-ai-training"]
    assert kept["reason"] == "  no thanks "
    assert kept["source"] == [TOPIC_OBJECTION_REQUESTS, PARTITION, 41]

    purges: list[dict[int, int]] = []
    forget_reasons(flow.reasons, purges.append, "camille")
    assert "camille" not in flow.reasons
    assert purges == [{PARTITION: 42}]  # every record up to the one that carried it
    forget_reasons(flow.reasons, purges.append, "camille")
    assert len(purges) == 1


async def test_an_objection_preavis_wrote_read_back_changes_nothing() -> None:
    flow = camille_with_campaigns()
    await handle_request(flow.ports, request("r1", "ai-training"), SOURCE)
    [own] = flow.recorded()
    before = flow.everything_written()

    await handle_platform_record(
        flow.ports, own, RecordPosition(names.TOPIC_OBJECTIONS, PARTITION, 7)
    )

    assert flow.everything_written() == before


def platform_objection(purpose_id: str, reason: str | None = None) -> ObjectionRecorded:
    return ObjectionRecorded(
        objection_id=f"platform-{purpose_id}",
        user_id="camille",
        purpose_id=purpose_id,
        channel="web",
        received_at=WHEN,
        reason=reason,
    )


async def test_the_platforms_objection_is_applied_without_a_proof_copy_or_an_email() -> None:
    flow = camille_with_campaigns()
    position = RecordPosition(names.TOPIC_OBJECTIONS, PARTITION, 7)
    await handle_platform_record(flow.ports, platform_objection("ads", "my reason"), position)

    assert flow.proof.sent == [] and flow.confirmations == []
    [(_, exclusion)] = flow.published()
    assert exclusion is not None and exclusion.reasons == {"ads": "objection"}
    assert [c.campaign_id for c in flow.counted()] == ["purpose:ads:v2"]
    assert flow.reasons.data["camille"]["platform-ads"]["reason"] == "my reason"
    purges: list[dict[int, int]] = []
    forget_reasons(flow.reasons, purges.append, "camille")
    assert purges == []  # the platform's own topic: not preavis's to delete


async def test_a_withdrawal_lifts_only_its_purpose_and_an_empty_list_is_a_tombstone() -> None:
    flow = camille_with_campaigns()
    flow.exclusions["camille"] = {
        "reasons": {"kids": "below_min_age"},
        "since": "2026-01-01T00:00:00+00:00",
    }
    position = RecordPosition(names.TOPIC_OBJECTIONS, PARTITION, 7)
    await handle_platform_record(flow.ports, platform_objection("ai-training"), position)
    await handle_platform_record(flow.ports, platform_objection("ads"), position)

    withdrawn = ObjectionWithdrawn(user_id="camille", purpose_id="ai-training", received_at=WHEN)
    await handle_platform_record(flow.ports, withdrawn, position)

    *_, (_, after) = flow.published()
    assert after is not None
    assert after.reasons == {"ads": "objection", "kids": "below_min_age"}  # the whole list
    assert after.since == datetime(2026, 1, 1, tzinfo=UTC)
    assert set(flow.objections.data["camille"]) == {"ads"}

    # withdrawing what was never objected to changes nothing
    count = len(flow.exclusion_list.sent)
    await handle_platform_record(flow.ports, withdrawn, position)
    assert len(flow.exclusion_list.sent) == count

    # the last exclusion lifted: a tombstone, and the user leaves both tables
    flow.exclusions["camille"] = {
        "reasons": {"ads": "objection"},
        "since": "2026-01-01T00:00:00+00:00",
    }
    gone = ObjectionWithdrawn(user_id="camille", purpose_id="ads", received_at=WHEN)
    await handle_platform_record(flow.ports, gone, position)
    assert flow.published()[-1] == (b"camille", None)
    assert "camille" not in flow.exclusions and "camille" not in flow.objections


async def test_a_request_goes_to_the_users_partition_with_a_trimmed_reason() -> None:
    requests, index = RecordingTopic(TOPIC_OBJECTION_REQUESTS), RecordingTopic()
    ports = IntakePorts(requests=requests, address_index=index)
    claims = TokenClaims("camille", ("ai-training", "ads"), CAMPAIGN, "fr")

    await submit_objection(ports, claims, "api", "   ", request_id="a", now=WHEN)
    await submit_objection(ports, claims, "api", "x" * 5000, request_id="b", now=WHEN)

    assert index.sent == [] and [s.key for s in requests.sent] == [b"camille", b"camille"]
    blank, long = (decode_internal(TOPIC_OBJECTION_REQUESTS, s.key, s.value) for s in requests.sent)
    assert (blank.request_id, blank.purposes, blank.campaign_id) == (
        "a",
        ["ai-training", "ads"],
        CAMPAIGN,
    )
    assert (blank.channel, blank.language, blank.received_at) == ("api", "fr", WHEN)
    assert blank.reason is None
    assert long.reason == "x" * REASON_MAX_CHARS
