"""Erasure (Art. 17): after ``user.erased``, nothing personal of the user is left.

Every place of the README's data map is read: every table, every topic
preavis creates (the contract's, the internal ones, the tables' changelogs),
every record on them (not only the last value of each key), and the worker's
log. What may stay is what the map lists as kept: pseudonymous proof (user_id,
message_id, content_sha256, objection ids, statuses) and, on a compacted
topic, older values of a key whose last value is a tombstone, until the log
cleaner compacts them; the test then forces that compaction (a short
``segment.ms``, a low ``min.cleanable.dirty.ratio``) and checks that they are
gone too.

"The tables" are read where Kafka keeps them, on each table's changelog topic
(``{PREAVIS_APP_ID}-{table}-changelog``, every one the worker created), and
each key's last value is what the table converges to (the topics are
compacted). Erin is notified, objects with a reason, and is erased with a
``user.erased`` event; Gus hard-bounces (the suppression list) and is erased
with a null value; Kim is not erased and shows that the reading finds data
where there is some. The proof of notice must stay, pseudonymous: user_id,
message_id, content_sha256, on ``notices.delivery`` and in ``deliveries``.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import aiohttp
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from notifications import topic_names as names
from notifications.internal_events import TOPIC_JOBS, TOPIC_OBJECTION_REQUESTS
from streams.topics import TOPIC_SPECS
from tests import examples
from tests.faults.conftest import Workers
from tests.faults.support import (
    Mailbox,
    deliveries_of,
    final_status,
    last_values,
    publish_purpose,
    read_all,
    report,
    wait_for_mail,
)
from tests.support.kafka import BOOTSTRAP, Record, alter_topic_configs, produce, read_topic
from tests.support.mail import objection_link
from tests.support.smtp_server import SmtpServer

TABLES = (
    "directory",
    "deliveries",
    "suppression",
    "objections",
    "exclusions",
    "late_decisions",
    "campaign_shards",
    "campaigns_seen",
    "campaigns",
    "campaign_finals",
    "objection_reasons",
)
PERSONAL_FIELDS = ("email", "locale", "country", "language", "birth_year")
ROLL_KEY = "zz-compaction-roll"
REASON = "Je suis Erin Lefebvre, 12 rue des Lilas, Lyon"

ERIN = examples.user_upserted(
    user_id="erin-7731", email="Erin.Lefebvre@example.fr", locale="fr-BE", country="BE",
    birth_year=1983,
)  # fmt: skip
GUS = examples.user_upserted(
    user_id="gus-5120", email="gus.gone@example.nl", locale="nl", country="NL", birth_year=1961
)
KIM = examples.user_upserted(
    user_id="kim-0042", email="kim@example.de", locale="de", country="AT", birth_year=1999
)


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif value is not None:
        yield str(value)


def records_about(value: Any, user_id: str) -> Iterator[dict[str, Any]]:
    """Every object in ``value`` that names ``user_id``."""
    if isinstance(value, dict):
        if value.get("user_id") == user_id:
            yield value
        for item in value.values():
            yield from records_about(item, user_id)
    elif isinstance(value, list):
        for item in value:
            yield from records_about(item, user_id)


def personal_data(table: str, key: str, value: Any, user: dict[str, Any]) -> list[str]:
    """What of ``user`` a table's entry still holds: field names and values found."""
    found = []
    address = user["email"].lower()
    digest = hashlib.sha256(address.encode()).hexdigest()
    text = [s.lower() for s in strings_in(value)]
    if any(address in s or address.split("@")[0] in s for s in text):
        found.append(f"{table}[{key}]: the email address")
    if any(digest in s for s in text):
        found.append(f"{table}[{key}]: the email address's sha256")
    if any(REASON.lower() in s for s in text):
        found.append(f"{table}[{key}]: the objection's free-text reason")
    about = list(records_about(value, user["user_id"]))
    if user["user_id"] in key and isinstance(value, dict):
        about.append(value)
    for record in about:
        for name in PERSONAL_FIELDS:
            if record.get(name) is not None:
                found.append(f"{table}[{key}]: {name}={record[name]!r}")
    return found


async def changelogs(app_id: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        topics = await admin.list_topics()
    finally:
        await admin.close()
    return sorted(t for t in topics if t.startswith(f"{app_id}-") and t.endswith("-changelog"))


async def read_tables(app_id: str) -> dict[str, dict[Any, Any]]:
    """table -> key -> last value (None: deleted), read on the changelog topics."""
    tables: dict[str, dict[Any, Any]] = {}
    for topic in await changelogs(app_id):
        table = topic.removeprefix(f"{app_id}-").removesuffix("-changelog")
        last = last_values(await read_all(topic, settle=1.0))
        tables[table] = {
            json.loads(k) if k else k: (json.loads(v) if v is not None else None)
            for k, v in last.items()
        }
    return tables


async def topics_of(app_id: str) -> dict[str, bool]:
    """Every topic of the data map: name -> compacted (the contract's, internal, changelogs)."""
    found = {spec.name: spec.compacted for spec in TOPIC_SPECS}
    found.update({topic: True for topic in await changelogs(app_id)})
    return found


def record_findings(record: Record, user: dict[str, Any]) -> list[str]:
    """What of ``user`` one record holds, anywhere in its key or value."""
    try:
        value = json.loads(record.value) if record.value is not None else None
    except ValueError:
        value = (record.value or b"").decode("utf-8", "replace")
    key = (record.key or b"").decode("utf-8", "replace")
    where = f"{record.topic}[{record.partition}]@{record.offset}"
    return personal_data(where, key, value, user) if value is not None else []


async def leftovers_on_topics(
    topics: dict[str, bool], users: list[dict[str, Any]]
) -> tuple[list[str], dict[str, set[int]]]:
    """(records that hold personal data and may not, compacted partitions still holding some).

    A record on a compacted topic is allowed while a later record of its key
    holds nothing of the user (a tombstone, ``user.erased``): the cleaner
    removes it. Anywhere else, any finding is a leak.
    """
    leaks: list[str] = []
    awaiting: dict[str, set[int]] = {}
    for topic, compacted in sorted(topics.items()):
        records = await read_all(topic, settle=1.0)
        last = {r.key: r for r in records}
        for record in records:
            for user in users:
                found = record_findings(record, user)
                if not found:
                    continue
                superseded = last[record.key] is not record and not record_findings(
                    last[record.key], user
                )
                if compacted and superseded:
                    awaiting.setdefault(topic, set()).add(record.partition)
                else:
                    leaks.extend(found)
    return leaks, awaiting


async def force_compaction(awaiting: dict[str, set[int]]) -> None:
    """Make the log cleaner compact ``awaiting``'s partitions now.

    The cleaner never touches a partition's active segment: a short
    ``segment.ms`` and one more record (a tombstone of a key nobody has) roll
    it, and a low dirty ratio makes the closed segment worth cleaning at the
    cleaner's next pass (``log.cleaner.backoff.ms``, 15 s by default).
    """
    await alter_topic_configs(
        {
            topic: {
                "cleanup.policy": "compact",
                "segment.ms": "1000",
                "min.cleanable.dirty.ratio": "0.001",
                "min.compaction.lag.ms": "0",
            }
            for topic in awaiting
        }
    )
    time.sleep(2.5)
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all")
    await producer.start()
    try:
        for topic, partitions in sorted(awaiting.items()):
            key = ROLL_KEY.encode() if topic == names.TOPIC_USERS else json.dumps(ROLL_KEY).encode()
            for partition in sorted(partitions):
                await producer.send_and_wait(topic, key=key, value=None, partition=partition)
    finally:
        await producer.stop()


async def test_after_erasure_no_table_holds_personal_data_and_the_proof_of_notice_stays(
    relay: SmtpServer, workers: Workers, worker_env: dict[str, str]
) -> None:
    started = time.monotonic()
    app_id = worker_env["PREAVIS_APP_ID"]
    mailbox = relay.handler
    assert isinstance(mailbox, Mailbox)
    mailbox.keep_content = True
    mailbox.unknown_users = {GUS["email"]}
    worker = workers.start_healthy("worker", PREAVIS_SMTP_PORT=str(relay.port))
    people = [ERIN, GUS, KIM]
    await produce(
        names.TOPIC_USERS, [(u["user_id"].encode(), json.dumps(u).encode()) for u in people]
    )
    campaign_id = await publish_purpose("ai-training")
    assert wait_for_mail(mailbox, campaign_id, {ERIN["email"], KIM["email"]}, 90)
    delivered = await read_topic(
        names.TOPIC_DELIVERY,
        until=lambda rs: len(final_status(rs, campaign_id)) >= 3,
        timeout=60,
    )
    assert final_status(delivered, campaign_id) == {
        "erin-7731": "sent",
        "gus-5120": "bounced",
        "kim-0042": "sent",
    }
    [notice] = mailbox.messages_to(ERIN["email"])
    async with (
        aiohttp.ClientSession() as http,
        http.post(objection_link(notice), data={"reason": REASON}) as response,
    ):
        assert response.status == 200
    await read_topic(names.TOPIC_EXCLUSIONS, until=lambda rs: len(rs) >= 1, timeout=20)
    # Erin's late change (a move) puts a late decision in the tables too
    moved = dict(ERIN, country="FR", updated_at="2026-03-05T10:00:00Z")
    await produce(names.TOPIC_USERS, [(b"erin-7731", json.dumps(moved).encode())])
    time.sleep(2)

    before = await read_tables(app_id)
    assert set(TABLES) <= set(before), f"changelogs found: {sorted(before)}"
    for user in (ERIN, GUS):  # the reading finds what is there before the erasure
        assert before["directory"][user["user_id"]]["email"] == user["email"]

    erased = examples.user_erased(user_id="erin-7731", erased_at="2026-03-06T10:00:00Z")
    await produce(
        names.TOPIC_USERS,
        [(b"erin-7731", json.dumps(erased).encode()), (b"gus-5120", None)],
    )
    await read_topic(
        f"{app_id}-directory-changelog",
        until=lambda rs: (
            {json.loads(k) for k, v in last_values(rs).items() if k and v is None}
            >= {"erin-7731", "gus-5120"}
        ),
        timeout=30,
    )
    # a campaign after the erasure reaches Kim only
    second = await publish_purpose("ai-training-2")
    assert wait_for_mail(mailbox, second, {KIM["email"]}, 60)
    time.sleep(3)
    tables = await read_tables(app_id)
    erased_users = [ERIN, GUS]
    topics = await topics_of(app_id)
    leaks, awaiting = await leftovers_on_topics(topics, erased_users)
    awaiting_before = {topic: sorted(partitions) for topic, partitions in awaiting.items()}
    still_awaiting: dict[str, set[int]] = {}
    if awaiting:
        await force_compaction(awaiting)
        deadline = time.monotonic() + 120
        while True:
            time.sleep(5)
            _, still_awaiting = await leftovers_on_topics(
                dict.fromkeys(awaiting, True), erased_users
            )
            if not still_awaiting or time.monotonic() > deadline:
                break
    logged = [
        what
        for what in (ERIN["email"], GUS["email"], REASON)
        if what.lower() in worker.log().lower()
    ]

    leftovers = [
        finding
        for user in (ERIN, GUS)
        for table, entries in tables.items()
        for key, value in entries.items()
        if value is not None
        for finding in personal_data(table, str(key), value, user)
    ]
    kim_found = [
        finding
        for table, entries in tables.items()
        for key, value in entries.items()
        if value is not None
        for finding in personal_data(table, str(key), value, KIM)
    ]
    proof = tables["deliveries"].get(f"{campaign_id}|erin-7731") or {}
    deliveries = await read_all(names.TOPIC_DELIVERY)
    jobs = [r.json for r in await read_all(TOPIC_JOBS)]
    report(
        "8-erasure",
        users_erased=2,
        changelogs=len(tables),
        topics=len(topics),
        personal_data_left=len(leftovers) + len(leaks),
        awaiting_compaction=";".join(f"{t}:{len(p)}" for t, p in sorted(awaiting_before.items())),
        left_after_compaction=sum(len(p) for p in still_awaiting.values()),
        proof_kept=bool(proof.get("message_id") and proof.get("content_sha256")),
        seconds=round(time.monotonic() - started, 1),
    )

    assert worker.process.poll() is None
    assert tables["directory"]["erin-7731"] is None, "the directory entry is not a tombstone"
    assert tables["directory"]["gus-5120"] is None, "the directory entry is not a tombstone"
    raw = [finding for finding in leftovers if "sha256" not in finding]
    assert not raw, "\n".join(raw)
    assert kim_found, "the check finds nothing even where data is (Kim's entry)"

    # the proof of notice: pseudonymous, complete
    assert proof["status"] == "sent"
    assert proof["message_id"] == notice["Message-ID"]
    assert len(proof["content_sha256"]) == 64
    [sent] = [e for e in deliveries_of(deliveries, campaign_id) if e["user_id"] == "erin-7731"]
    assert (sent["status"], sent["message_id"], sent["content_sha256"]) == (
        "sent",
        proof["message_id"],
        proof["content_sha256"],
    )
    assert not any(
        ERIN["email"].lower() in (r.value or b"").decode().lower() for r in deliveries
    ), "an address on notices.delivery"
    with urllib.request.urlopen(
        urllib.request.Request(
            f"{worker.url}/api/v1/users/erin-7731/notices",
            headers={"Authorization": f"Bearer {worker_env['PREAVIS_ADMIN_TOKEN']}"},
        ),
        timeout=10,
    ) as response:
        answer = json.loads(response.read())
    assert proof["message_id"] in json.dumps(answer)
    assert not any(
        j["campaign_id"] == second and j["user_id"] in ("erin-7731", "gus-5120") for j in jobs
    ), "an erased user was given a job in a later campaign"
    # a hash of an address is still personal data (pseudonymous, GDPR Recital 26)
    assert not leftovers, "\n".join(leftovers)
    # every record of every topic: only what the data map keeps
    assert not leaks, "\n".join(leaks)
    assert tables["objection_reasons"].get("erin-7731", "absent") in (None, "absent")
    assert not any(
        REASON.lower() in (r.value or b"").decode("utf-8", "replace").lower()
        for r in await read_all(TOPIC_OBJECTION_REQUESTS)
    ), "the reason is still on preavis.objection-requests"
    assert not logged, f"the worker logged {logged}"
    # compacted topics: the old values wait for the log cleaner, which removes them
    assert set(awaiting_before) <= {names.TOPIC_USERS} | {
        t for t in topics if t.endswith("-changelog")
    }, awaiting_before
    assert not still_awaiting, f"not compacted after 120 s: {still_awaiting}"
