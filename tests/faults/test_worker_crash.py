"""Workers killed with SIGKILL in the middle of a 20,000-user campaign.

Real broker, real aiosmtpd relay, real ``preavis worker`` processes. What
counts is what the relay accepted (each message's ``Message-ID``, stable for a
(campaign, user)) and what is on ``notices.delivery``.

The one duplicate SMTP allows: a worker that dies after the relay's ``250``
and before the deliveries table's write reaches Kafka leaves a job whose next
owner cannot know it was sent (SMTP has no idempotent send). That window holds
at most the jobs in progress, ``PREAVIS_DELIVERY_WINDOW`` (32 by default) per
killed worker; the tests allow exactly that many and report how many there were.
"""

from __future__ import annotations

import re
import time

import pytest

from notifications import topic_names as names
from streams.publish import partition_for
from tests import examples
from tests.faults.conftest import Workers
from tests.faults.support import (
    Mailbox,
    audience,
    check_counted_once,
    check_one_id_per_recipient,
    explain_lost,
    final_status,
    import_users,
    jobs_passed_unsent,
    publish_purpose,
    read_all,
    report,
    sent_counts,
    tally,
    wait_for_directory,
    wait_for_mail,
    wait_until,
)
from tests.support.smtp_server import SmtpServer

USERS = 20_000
PAIR_USERS = 10_000
PARTITIONS = 8
IN_FLIGHT_PER_WORKER = 32  # PREAVIS_DELIVERY_WINDOW, the default
_ASSIGNED = re.compile(r"Setting newly assigned partitions \{(.*?)\}")
_JOB_PARTITION = re.compile(r"TopicPartition\(topic='preavis\.notice-jobs', partition=(\d+)\)")


def job_partitions(log: str) -> set[int]:
    """The ``preavis.notice-jobs`` partitions of a worker's last assignment (aiokafka's log)."""
    assignments = _ASSIGNED.findall(log)
    if not assignments:
        return set()
    return {int(p) for p in _JOB_PARTITION.findall(assignments[-1])}


async def start_campaign(
    app_id: str, prefix: str, count: int = USERS
) -> tuple[str, set[str], dict[str, int]]:
    """Users in, directory loaded on the workers, purpose published."""
    users = audience(count, prefix)
    await import_users(users)
    await wait_for_directory(app_id, count)
    campaign_id = await publish_purpose(f"{prefix}-training")
    expected = {u["email"] for u in users}
    partition_of = {u["email"]: partition_for(u["user_id"].encode(), PARTITIONS) for u in users}
    return campaign_id, expected, partition_of


# tens of thousands of notices through a kill and a restart: minutes on a
# loaded 2-core machine, more than the suite's default ceiling
@pytest.mark.timeout(600)
async def test_worker_killed_mid_campaign_and_restarted_notifies_everyone_once(
    relay: SmtpServer, workers: Workers, worker_env: dict[str, str]
) -> None:
    started = time.monotonic()
    mailbox = relay.handler
    assert isinstance(mailbox, Mailbox)
    smtp = {"PREAVIS_SMTP_PORT": str(relay.port)}
    first = workers.start_healthy("worker-before-kill", **smtp)
    campaign_id, expected, _ = await start_campaign(worker_env["PREAVIS_APP_ID"], "crash")

    # SIGKILL once a quarter of the notices went out: no commit, no goodbye
    assert wait_until(lambda: len(mailbox.of(campaign_id)) >= USERS // 4, 240), (
        f"only {len(mailbox.of(campaign_id))} notices before the kill\n{first.log()[-3000:]}"
    )
    first.kill()
    at_kill = len(mailbox.of(campaign_id))
    time.sleep(1)  # anything the dead worker had handed to the relay has landed
    before_restart = len(mailbox.of(campaign_id))
    # jobs nobody will read again: behind the committed offset, yet never sent
    unsent = {rcpt.split("@")[0] for rcpt in expected - mailbox.recipients(campaign_id)}
    passed = await jobs_passed_unsent(worker_env["PREAVIS_APP_ID"], campaign_id, unsent)

    second = workers.start_healthy("worker-after-restart", **smtp)
    everyone = wait_for_mail(mailbox, campaign_id, expected, 300)
    time.sleep(3)  # a late duplicate would arrive now
    figures = tally(mailbox, campaign_id, expected)
    elapsed = time.monotonic() - started
    report(
        "1-worker-sigkill-restart",
        users=USERS,
        killed_after=at_kill,
        **figures.figures(),
        committed_unsent=len(passed),
        seconds=round(elapsed, 1),
    )
    lost = {rcpt.split("@")[0] for rcpt in expected - mailbox.recipients(campaign_id)}
    details = await explain_lost(worker_env["PREAVIS_APP_ID"], campaign_id, lost)
    assert everyone, (
        f"{figures.line()}; jobs behind the committed offset at the kill, never sent "
        f"(user, partition, offset, committed): {passed}; never received:\n"
        + "\n".join(details[:30])
    )
    assert second.process.poll() is None, "the restarted worker died"
    assert before_restart - at_kill <= IN_FLIGHT_PER_WORKER

    assert figures.lost == 0 and figures.unexpected == 0
    check_one_id_per_recipient(mailbox, campaign_id)
    # SMTP has no idempotent send: at most the messages in flight at the kill
    assert figures.duplicates <= IN_FLIGHT_PER_WORKER, figures.duplicated_ids

    # what is on the topic: every user has a final "sent" notice.delivery
    records = await read_all(names.TOPIC_DELIVERY)
    finals = final_status(records, campaign_id)
    assert len(finals) == USERS
    assert set(finals.values()) == {"sent"}
    recorded_twice = sum(1 for n in sent_counts(records, campaign_id).values() if n > 1)
    assert recorded_twice <= figures.duplicates
    report("1-topic", sent_users=len(finals), sent_recorded_twice=recorded_twice)

    # duplicate emails or not, the campaign's figures count each person once
    await check_counted_once(second.url, worker_env["PREAVIS_ADMIN_TOKEN"], campaign_id, USERS)


# tens of thousands of notices through a kill and a restart: minutes on a
# loaded 2-core machine, more than the suite's default ceiling
@pytest.mark.timeout(600)
async def test_two_workers_one_killed_the_other_takes_over_and_finishes(
    relay: SmtpServer, workers: Workers, worker_env: dict[str, str]
) -> None:
    started = time.monotonic()
    mailbox = relay.handler
    assert isinstance(mailbox, Mailbox)
    smtp = {"PREAVIS_SMTP_PORT": str(relay.port)}
    victim = workers.start("worker-victim", **smtp)
    survivor = workers.start("worker-survivor", **smtp)
    victim.wait_healthy(120)
    survivor.wait_healthy(120)
    campaign_id, expected, partition_of = await start_campaign(
        worker_env["PREAVIS_APP_ID"], "pair", PAIR_USERS
    )

    assert wait_until(lambda: len(mailbox.of(campaign_id)) >= PAIR_USERS // 4, 240)
    owned = job_partitions(victim.log())
    assert owned, "the victim owned no notice-jobs partition: nothing to take over"
    assert owned.isdisjoint(job_partitions(survivor.log()))
    victim.kill()
    at_kill = len(mailbox.of(campaign_id))
    time.sleep(0.5)
    waiting = {rcpt for rcpt, p in partition_of.items() if p in owned} - mailbox.recipients(
        campaign_id
    )
    assert waiting, "the victim's partitions were already done at the kill"
    unsent = {rcpt.split("@")[0] for rcpt in waiting}
    passed = await jobs_passed_unsent(worker_env["PREAVIS_APP_ID"], campaign_id, unsent)

    everyone = wait_for_mail(mailbox, campaign_id, expected, 300)
    time.sleep(3)
    figures = tally(mailbox, campaign_id, expected)
    report(
        "2-two-workers-one-sigkill",
        users=PAIR_USERS,
        killed_after=at_kill,
        victim_partitions=len(owned),
        victim_users_waiting=len(waiting),
        **figures.figures(),
        committed_unsent=len(passed),
        seconds=round(time.monotonic() - started, 1),
    )
    lost = {rcpt.split("@")[0] for rcpt in expected - mailbox.recipients(campaign_id)}
    details = await explain_lost(worker_env["PREAVIS_APP_ID"], campaign_id, lost)
    assert everyone, (
        f"{figures.line()}; victim's partitions {sorted(owned)}; jobs of the victim behind "
        f"the committed offset at the kill, never sent (user, partition, offset, committed): "
        f"{passed}; never received:\n" + "\n".join(details[:30])
    )
    assert survivor.process.poll() is None, "the survivor died"
    assert job_partitions(survivor.log()) == set(range(PARTITIONS))
    assert waiting <= mailbox.recipients(campaign_id)
    assert figures.lost == 0 and figures.unexpected == 0
    check_one_id_per_recipient(mailbox, campaign_id)
    assert figures.duplicates <= IN_FLIGHT_PER_WORKER, figures.duplicated_ids

    records = await read_all(names.TOPIC_DELIVERY)
    finals = final_status(records, campaign_id)
    assert len(finals) == PAIR_USERS and set(finals.values()) == {"sent"}
    await check_counted_once(
        survivor.url, worker_env["PREAVIS_ADMIN_TOKEN"], campaign_id, PAIR_USERS
    )


async def test_worker_killed_while_the_relay_holds_a_notice_delivers_it_after_restart(
    relay: SmtpServer, workers: Workers, worker_env: dict[str, str]
) -> None:
    """The kill lands while one notice is in flight and the ones after it are done.

    Forty users on one partition; the relay takes 25 s over the first DATA
    of the first of them (the fan-out writes jobs in key order), while the
    worker's other connections deliver the rest. Some commits later the
    worker is killed, before the relay answered: no 250 was sent, so that
    notice was not delivered, and the restarted worker must deliver it.
    """
    started = time.monotonic()
    mailbox = relay.handler
    assert isinstance(mailbox, Mailbox)
    ids = sorted(
        uid
        for uid in (f"inflight-{i:04d}" for i in range(500))
        if partition_for(uid.encode(), PARTITIONS) == 0
    )[:40]
    slow = f"{ids[0]}@example.test"
    mailbox.slow_once = {slow: 25.0}
    users = [
        examples.user_upserted(
            user_id=uid, email=f"{uid}@example.test", country="DE", birth_year=1980
        )
        for uid in ids
    ]
    expected = {u["email"] for u in users}
    smtp = {"PREAVIS_SMTP_PORT": str(relay.port)}
    first = workers.start_healthy("worker-before-kill", **smtp)
    await import_users(users)
    await wait_for_directory(worker_env["PREAVIS_APP_ID"], len(users))
    campaign_id = await publish_purpose("inflight-training")
    assert wait_until(lambda: mailbox.recipients(campaign_id) >= expected - {slow}, 30)
    time.sleep(8)  # several commit intervals (2.8 s) while the relay still holds the first
    assert slow not in mailbox.recipients(campaign_id)
    first.kill()
    unsent = {slow.split("@")[0]}
    passed = await jobs_passed_unsent(worker_env["PREAVIS_APP_ID"], campaign_id, unsent)

    second = workers.start_healthy("worker-after-restart", **smtp)
    everyone = wait_for_mail(mailbox, campaign_id, expected, 60)
    time.sleep(2)
    figures = tally(mailbox, campaign_id, expected)
    report(
        "1b-sigkill-with-a-notice-in-flight",
        users=len(users),
        **figures.figures(),
        committed_unsent=len(passed),
        seconds=round(time.monotonic() - started, 1),
    )
    assert everyone, (
        f"{figures.line()}; the notice in flight at the kill never arrived; its job was "
        f"behind the committed offset (user, partition, offset, committed): {passed}\n"
        f"{second.log()[-3000:]}"
    )
    assert mailbox.aborted == [(slow,)], "the kill did not land during the slow DATA"
    assert figures.duplicates == 0 and figures.unexpected == 0
    records = await read_all(names.TOPIC_DELIVERY)
    assert final_status(records, campaign_id) == {u["user_id"]: "sent" for u in users}
