"""The broker stopped and started again in the middle of a campaign.

Two real workers deliver a campaign to a real relay; a quarter of the way
through, the broker (the local one ``streams.local.broker`` manages, with the
``PREAVIS_KAFKA_*`` environment) stops for ``DOWN_SECONDS`` and comes back.
The workers must reconnect by themselves and finish: every user gets their
notice, and ``notices.delivery`` and the campaign ledger account for all.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from notifications import topic_names as names
from notifications.internal_events import TOPIC_LEDGER
from streams.local import broker as localbroker
from tests.faults.conftest import Workers
from tests.faults.support import (
    Mailbox,
    audience,
    check_one_id_per_recipient,
    final_status,
    import_users,
    publish_purpose,
    read_all,
    report,
    sent_counts,
    tally,
    wait_for_directory,
    wait_for_mail,
    wait_until,
)
from tests.support.kafka import BOOTSTRAP, broker_answers
from tests.support.smtp_server import SmtpServer

USERS = 10_000
DOWN_SECONDS = 15
PARTITIONS = 8


@pytest.fixture
def local_broker() -> None:
    running, message = localbroker.status()
    if not running or localbroker.layout().bootstrap != BOOTSTRAP:
        pytest.skip(
            f"the broker on {BOOTSTRAP} is not the local one `preavis kafka` manages "
            f"({message}): this test must be able to stop and start it"
        )


async def test_broker_restarted_mid_campaign_workers_reconnect_and_finish(
    local_broker: None, relay: SmtpServer, workers: Workers, worker_env: dict[str, str]
) -> None:
    started = time.monotonic()
    mailbox = relay.handler
    assert isinstance(mailbox, Mailbox)
    smtp = {"PREAVIS_SMTP_PORT": str(relay.port)}
    pair = [workers.start("worker-a", **smtp), workers.start("worker-b", **smtp)]
    for worker in pair:
        worker.wait_healthy(120)
    users = audience(USERS, "restart")
    await import_users(users)
    await wait_for_directory(worker_env["PREAVIS_APP_ID"], USERS)
    campaign_id = await publish_purpose("restart-training")
    expected = {u["email"] for u in users}

    assert wait_until(lambda: len(mailbox.of(campaign_id)) >= USERS // 4, 240)
    at_stop = len(mailbox.of(campaign_id))
    try:
        stopped = await asyncio.to_thread(localbroker.down)
        down_at = time.monotonic()
        await asyncio.sleep(DOWN_SECONDS)
        during_outage = len(mailbox.of(campaign_id)) - at_stop
    finally:
        restarted = await asyncio.to_thread(localbroker.up)
    outage = time.monotonic() - down_at
    assert await broker_answers(), restarted

    everyone = wait_for_mail(mailbox, campaign_id, expected, 300)
    time.sleep(3)
    figures = tally(mailbox, campaign_id, expected)
    alive = [w.process.poll() is None for w in pair]
    report(
        "3-broker-restart",
        users=USERS,
        workers=len(pair),
        stopped_after=at_stop,
        broker_down_s=round(outage, 1),
        sent_while_down=during_outage,
        **figures.figures(),
        workers_alive=sum(alive),
        seconds=round(time.monotonic() - started, 1),
    )
    assert all(alive), f"a worker died with the broker: {stopped}\n{workers.logs()[-6000:]}"
    lost = sorted(expected - mailbox.recipients(campaign_id))
    assert everyone, f"{figures.line()}; never received: {lost[:20]}"
    assert figures.lost == 0 and figures.unexpected == 0
    check_one_id_per_recipient(mailbox, campaign_id)
    assert figures.duplicates == 0, figures.duplicated_ids

    records = await read_all(names.TOPIC_DELIVERY)
    finals = final_status(records, campaign_id)
    assert len(finals) == USERS and set(finals.values()) == {"sent"}
    assert max(sent_counts(records, campaign_id).values()) == 1

    # the ledger saw every partition's fan-out and every final outcome
    ledger = await read_all(TOPIC_LEDGER)
    ours = [r.json for r in ledger if r.json.get("campaign_id") == campaign_id]
    done = {e["partition"] for e in ours if e["type"] == "campaign.partition_done"}
    outcomes = {e["user_id"] for e in ours if e["type"] == "campaign.final_outcome"}
    assert done == set(range(PARTITIONS))
    assert outcomes == {u["user_id"] for u in users}
