"""Upgrade canary: what streams/runtime/ relies on in faust-streaming and aiokafka.

Each workaround in ``streams.runtime`` reaches into code that Faust and
aiokafka do not promise to keep. These tests pin exactly what it relies on
(names, signatures, the order of steps inside a recovery, the condition that
makes aiokafka skip a seek), so that an upgrade which changes any of it fails
here, by name, instead of losing notices in production. When one fails, read
the module named in the test, check the new upstream code, and adapt both.
"""

from __future__ import annotations

import inspect
import json
import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiokafka
import faust
import pytest
from aiokafka.producer.message_accumulator import BatchBuilder
from faust.stores import memory as memory_store
from faust.tables import base as table_base
from faust.tables import recovery
from faust.tables import table as faust_table
from faust.transport import consumer as faust_consumer
from faust.transport.drivers import aiokafka as faust_aiokafka
from mode.utils.collections import ManagedUserDict
from packaging.requirements import Requirement

from streams.app import create_app
from streams.runtime.partition_scan import scan_partition
from streams.runtime.rewind import RewindingConsumer, RewindingConsumerThread, RewindingTransport
from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def source(obj: Any) -> str:
    return inspect.getsource(obj)


def in_order(text: str, *steps: str) -> bool:
    """Whether every step occurs in ``text``, each after the one before."""
    at = -1
    for step in steps:
        at = text.find(step, at + 1)
        if at < 0:
            return False
    return True


def params(func: Any) -> list[str]:
    return list(inspect.signature(func).parameters)


@pytest.mark.parametrize("package", ["faust-streaming", "aiokafka"])
def test_installed_versions_are_the_pinned_ones(package: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    [pin] = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == package]
    assert pin.specifier, f"{package} must be pinned to a range: streams/runtime relies on it"
    assert version(package) in pin.specifier, (
        f"{package} {version(package)} is outside {pin.specifier}: "
        "check streams/runtime/ against the new version, then this canary, then the pin"
    )


# --- streams.runtime.rewind ------------------------------------------------------------------


def test_aiokafka_seek_to_committed_skips_partitions_without_a_positive_commit() -> None:
    seek = aiokafka.AIOKafkaConsumer.seek_to_committed
    assert inspect.iscoroutinefunction(seek) and params(seek) == ["self", "partitions"]
    text = source(seek)
    # the behaviour rewind works around: no seek for None or 0
    assert "if offset and offset > 0:" in text and "self._fetcher.seek_to(tp, offset)" in text
    assert "return committed_offsets" in text


def test_faust_consumer_thread_hooks_rewind_overrides() -> None:
    thread = faust_aiokafka.AIOKafkaConsumerThread
    assert inspect.iscoroutinefunction(thread.seek_to_committed)
    assert params(thread.seek_to_committed) == ["self"]
    assert "seek_to_committed" in source(thread.seek_to_committed)
    assert params(thread._ensure_consumer) == ["self"]
    assert inspect.iscoroutinefunction(thread.call_thread)
    # Faust builds its thread through this hook, with these arguments
    hook = faust_aiokafka.Consumer._new_consumer_thread
    assert params(hook) == ["self"]
    assert "AIOKafkaConsumerThread(self, loop=self.loop, beacon=self.beacon)" in source(hook)
    assert faust_aiokafka.Transport.Consumer is faust_aiokafka.Consumer
    assert issubclass(RewindingConsumerThread, thread)
    assert RewindingTransport.Consumer is RewindingConsumer


def test_faust_honours_a_transport_set_through_the_public_setter(tmp_path: Path) -> None:
    assert isinstance(faust.App.transport, property) and faust.App.transport.fset is not None
    assert "if self._transport is None:" in source(faust.App.transport.fget)
    app = create_app(
        Settings(
            app_id="preavis-canary",
            store="memory://",
            data_dir=str(tmp_path),
            link_secret="unit-test-link-secret-0123456789",
        )
    )
    assert type(app.transport) is RewindingTransport
    assert type(app.consumer) is RewindingConsumer
    # the topics' conductor, which the rewind asks which topics are acknowledged
    assert callable(app.topics.acks_enabled_for)


def test_faust_seeks_to_committed_after_dropping_fetched_records() -> None:
    perform_seek = faust_consumer.Consumer.perform_seek
    assert "seek_to_committed" in source(perform_seek)
    getmany = source(faust_consumer.Consumer.getmany)
    assert "perform_seek" in getmany  # a batch that comes back while the flow is stopped


# --- streams.runtime.recovery_guard ----------------------------------------------------------


@pytest.mark.parametrize("step", ["on_recovery_completed", "_resume_streams"])
def test_recovery_sends_rebalance_complete_before_seeking_and_resuming(step: str) -> None:
    text = source(getattr(recovery.Recovery, step))
    # the guard stops the flow on the signal; Faust resumes it after the seek
    assert in_order(
        text,
        "app.on_rebalance_complete.send()",
        "consumer.resume_partitions(",
        "consumer.perform_seek()",
        "flow_control.resume()",
        "consumer.resume_flow()",
    ), f"Recovery.{step} changed the order streams.runtime.recovery_guard relies on"


def test_consumer_flow_can_be_stopped() -> None:
    assert params(faust_consumer.Consumer.stop_flow) == ["self"]
    assert params(faust_consumer.Consumer.resume_flow) == ["self"]


# --- streams.runtime.offset_gaps -------------------------------------------------------------


def test_faust_commits_over_a_gap_in_acked_offsets() -> None:
    # what offset_gaps makes visible: a jump is recorded as a gap, not an error
    assert inspect.iscoroutinefunction(faust_consumer.Consumer._add_gap)
    assert params(faust_consumer.Consumer._add_gap) == ["self", "tp", "offset_from", "offset_to"]


# --- streams.runtime.acked -------------------------------------------------------------------


def test_a_table_assignment_sends_the_changelog_then_stores() -> None:
    assert in_order(
        source(ManagedUserDict.__setitem__), "self.on_key_set(key, value)", "self.data[key] = value"
    )
    assert "self.send_changelog(self.partition_for_key(key), key, value)" in source(
        faust_table.Table.on_key_set
    )
    assert params(table_base.Collection.send_changelog)[:4] == ["self", "partition", "key", "value"]
    assert isinstance(table_base.Collection.data, property)


def test_topic_send_returns_the_acknowledgement_future() -> None:
    send = faust.topics.Topic.send
    assert inspect.iscoroutinefunction(send)
    assert {"key", "value", "partition"} <= set(params(send))


# --- streams.runtime.partition_scan ----------------------------------------------------------


def test_rocksdb_store_keeps_one_database_per_partition() -> None:
    rocksdb = pytest.importorskip("faust.stores.rocksdb")
    store = rocksdb.Store
    assert params(store._db_for_partition) == ["self", "partition"]
    assert store.offset_key == b"__faust\0offset__"


def test_memory_store_keeps_every_partition_in_one_dict() -> None:
    # partition_scan filters this dict on the partition each directory entry stores
    assert "self.data: MutableMapping = {}" in source(memory_store.Store)


# --- streams.runtime.batch_writer ------------------------------------------------------------


def test_faust_producer_holds_an_aiokafka_producer_with_the_batch_api() -> None:
    assert params(faust_aiokafka.Producer._ensure_producer) == ["self"]
    producer = aiokafka.AIOKafkaProducer
    assert params(producer.create_batch) == ["self"]
    assert inspect.iscoroutinefunction(producer.send_batch)
    assert params(producer.send_batch) == ["self", "batch", "topic", "partition"]
    append = inspect.signature(BatchBuilder.append)
    assert {"key", "value", "timestamp"} <= set(append.parameters)
    assert all(
        append.parameters[p].kind is inspect.Parameter.KEYWORD_ONLY
        for p in ("key", "value", "timestamp")
    )


# --- streams.runtime.direct_topic -------------------------------------------------------------


def test_aiokafka_send_returns_the_future_of_the_acknowledgement() -> None:
    """``DirectTopic`` awaits ``send`` for the future, then the future for the broker's ack."""
    send = aiokafka.AIOKafkaProducer.send
    assert inspect.iscoroutinefunction(send)
    assert params(send)[:5] == ["self", "topic", "value", "key", "partition"]
    assert "asyncio.Future" in (send.__doc__ or "")


def test_a_full_batch_refuses_the_record() -> None:
    """``PartitionWriter.append`` sends the batch when ``append`` returns None."""
    builder = BatchBuilder(100, 0, is_transactional=False)
    assert builder.append(key=b"k", value=b"v", timestamp=None) is not None
    assert builder.append(key=b"k", value=b"v" * 200, timestamp=None) is None


def _directory(tmp_path: Path, store: str) -> Any:
    app = faust.App(f"canary-{store[:3]}", store=store, datadir=str(tmp_path), autodiscover=False)
    return app.Table("directory", key_type=str, value_type=None, partitions=2)


def test_partition_scan_reads_one_rocksdb_partition_in_key_order(tmp_path: Path) -> None:
    """The production path (``rocksdb://``): keys as Faust's store encodes them,
    one database per partition, the offset key skipped, resumed after a key."""
    pytest.importorskip("rocksdict")
    table = _directory(tmp_path, "rocksdb://")
    store = table.data
    # the order partition_scan assumes: a str key is stored as its JSON bytes
    assert store._encode_key("ü-1") == json.dumps("ü-1").encode()
    for partition, keys in {0: ["u3", "u1", "u10"], 1: ["u2"]}.items():
        db = store._db_for_partition(partition)
        for key in keys:
            db.put(store._encode_key(key), store._encode_value({"partition": partition, "k": key}))
    store.set_persisted_offset(faust.types.TP(table.changelog_topic.get_topic_name(), 0), 41)
    assert [k for k, _ in scan_partition(table, 0)] == ["u1", "u10", "u3"]
    assert [k for k, _ in scan_partition(table, 0, after="u10")] == ["u3"]
    assert [v for _, v in scan_partition(table, 1)] == [{"partition": 1, "k": "u2"}]
    assert store.persisted_offset(faust.types.TP(table.changelog_topic.get_topic_name(), 0)) == 41


def test_partition_scan_filters_the_memory_store_on_the_stored_partition(tmp_path: Path) -> None:
    table = _directory(tmp_path, "memory://")
    table.data.data.update({"u3": {"partition": 0}, "u1": {"partition": 0}, "u2": {"partition": 1}})
    assert [k for k, _ in scan_partition(table, 0)] == ["u1", "u3"]
    assert [k for k, _ in scan_partition(table, 0, after="u1")] == ["u3"]
