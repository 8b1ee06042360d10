"""The relay down for 60 s, then answering 421 and 451 for a while, then well.

Extends ``tests/integration/test_delivery_faults.py`` (relay down then up):
here the relay is down for a full minute, and when it comes back its first
answers are scripted refusals (``tests/support/smtp_server.py``): ``421``
(service closing, the connection is dropped) to ``MAIL``, then ``451`` to
``RCPT``, then ``451`` to ``DATA`` (the message travelled but was not
accepted). Every notice must be deferred, retried, and delivered exactly once.
"""

from __future__ import annotations

import json
import time
from collections import Counter

from notifications import topic_names as names
from tests.faults.conftest import Workers
from tests.faults.support import (
    Mailbox,
    audience,
    check_one_id_per_recipient,
    deliveries_of,
    final_status,
    publish_purpose,
    read_all,
    report,
    tally,
    wait_for_mail,
)
from tests.support.kafka import produce, read_topic
from tests.support.smtp_server import SmtpServer

USERS = 8
DOWN_SECONDS = 60
MAIL_421 = ["421 4.3.2 Service shutting down, closing transmission channel"] * 3
RCPT_451 = ["451 4.3.0 <{address}>: Temporary lookup failure"] * 3
DATA_451 = ["451 4.7.1 Greylisted, try again later"] * 2


async def test_relay_down_a_minute_then_421_and_451_then_everything_arrives_once(
    workers: Workers, worker_env: dict[str, str]
) -> None:
    started = time.monotonic()
    mailbox = Mailbox(
        mail_replies=list(MAIL_421), rcpt_replies=list(RCPT_451), data_replies=list(DATA_451)
    )
    server = SmtpServer(mailbox)  # not started: the relay is down
    try:
        worker = workers.start_healthy("worker", PREAVIS_SMTP_PORT=str(server.port))
        users = audience(USERS, "outage")
        await produce(
            names.TOPIC_USERS, [(u["user_id"].encode(), json.dumps(u).encode()) for u in users]
        )
        campaign_id = await publish_purpose("outage-training")
        published = time.monotonic()

        def deferred_users(records: list) -> set[str]:  # type: ignore[type-arg]
            return {
                e["user_id"]
                for e in deliveries_of(records, campaign_id)
                if e["status"] == "deferred"
            }

        first = await read_topic(
            names.TOPIC_DELIVERY, until=lambda rs: len(deferred_users(rs)) >= 1, timeout=60
        )
        assert deferred_users(first), f"nothing deferred while the relay is down\n{worker.log()}"
        time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - published)))
        assert not mailbox.accepted
        server.start()
        back = time.monotonic()
        expected = {u["email"] for u in users}
        everyone = wait_for_mail(mailbox, campaign_id, expected, 150)
        recovered = time.monotonic() - back
        time.sleep(2)  # a duplicate would arrive now
    finally:
        server.stop()

    figures = tally(mailbox, campaign_id, expected)
    records = await read_all(names.TOPIC_DELIVERY)
    events = deliveries_of(records, campaign_id)
    reasons = Counter(
        e["reason"].split(" ", 1)[0] if e["reason"][0].isdigit() else e["reason"]
        for e in events
        if e["status"] == "deferred"
    )
    report(
        "4-relay-down-60s-then-421-451",
        users=USERS,
        relay_down_s=round(back - published, 1),
        deferred=sum(reasons.values()),
        **{f"deferred_{k.replace(' ', '_').replace(':', '')}": v for k, v in reasons.items()},
        scripted_refusals=len(mailbox.scripted),
        recovered_s=round(recovered, 1),
        **figures.figures(),
        seconds=round(time.monotonic() - started, 1),
    )
    lost = sorted(expected - mailbox.recipients(campaign_id))
    assert everyone, f"{figures.line()}; never received: {lost}\n{worker.log()[-4000:]}"
    assert figures.lost == 0 and figures.unexpected == 0 and figures.duplicates == 0
    check_one_id_per_recipient(mailbox, campaign_id)
    # the relay really said all of it, and each refusal was recorded as a deferral
    assert not (mailbox.mail_replies or mailbox.rcpt_replies or mailbox.data_replies)
    assert reasons["421"] == len(MAIL_421)
    assert reasons["451"] == len(RCPT_451) + len(DATA_451)
    assert reasons["connection error: ConnectionRefusedError"] >= 1
    assert all("outage-" not in e["reason"] for e in events if e["reason"]), (
        "an SMTP reply echoed the address into notices.delivery"
    )

    finals = final_status(records, campaign_id)
    assert finals == {u["user_id"]: "sent" for u in users}
    # each deferral was an attempt, and the notice went out on the next one
    deferrals = Counter(e["user_id"] for e in events if e["status"] == "deferred")
    sent_on = {e["user_id"]: e["attempt"] for e in events if e["status"] == "sent"}
    assert sent_on == {u["user_id"]: deferrals[u["user_id"]] + 1 for u in users}
    assert set(deferred_users(first)) <= {u for u, n in sent_on.items() if n > 1}
