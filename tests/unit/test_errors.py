"""Errors under one root in one module, and the one translation of third-party errors.

- every error class of ``streams/`` and ``notifications/`` is defined in
  ``notifications/errors.py``, is a ``PreavisError``, and (but for the few
  roots) also the builtin it resembles;
- ``streams.failures`` classifies what the agents retry as preavis's own
  transient errors, the original kept as the cause, its message unchanged;
- only ``streams.failures`` and the runtime folder name an aiokafka error;
- the guarded loop retries what is transient and dead-letters the rest.
"""

from __future__ import annotations

import ast
import inspect
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiokafka.errors
import pytest

import notifications.errors as errors
from notifications.errors import (
    InvalidEvent,
    PreavisError,
    ServiceTimeout,
    ServiceUnavailable,
    TransientError,
    TransientKafkaError,
)
from streams import guarded_agents
from streams.failures import kafka_errors, transient, unless_topic_exists

ROOT = Path(__file__).resolve().parents[2]
ERRORS_MODULE = ROOT / "notifications" / "errors.py"

#: Roots that are not a kind of any builtin error of their own.
ROOTS_WITHOUT_A_BUILTIN = {"PreavisError", "TransientError", "ReadStalled"}


def sources() -> list[Path]:
    return sorted(p for d in ("streams", "notifications") for p in (ROOT / d).rglob("*.py"))


def error_classes() -> list[type[BaseException]]:
    return [
        c
        for _, c in inspect.getmembers(errors, inspect.isclass)
        if issubclass(c, BaseException) and c.__module__ == errors.__name__
    ]


def test_every_error_class_is_defined_in_the_errors_module() -> None:
    ours = {c.__name__ for c in error_classes()}
    elsewhere = []
    for path in sources():
        if path == ERRORS_MODULE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or node.name.startswith("_"):
                continue
            bases = {
                b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
            }
            if any(b.endswith(("Error", "Exception")) or b in ours for b in bases):
                elsewhere.append(f"{path.relative_to(ROOT)}: {node.name}")
    assert elsewhere == []


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_every_error_has_the_one_root_and_the_builtin_it_resembles(
    cls: type[BaseException],
) -> None:
    assert issubclass(cls, PreavisError)
    if cls.__name__ not in ROOTS_WITHOUT_A_BUILTIN:
        builtins = [
            b for b in cls.__mro__ if b.__module__ == "builtins" and b not in (Exception, object)
        ]
        assert builtins[0] is not BaseException, f"{cls.__name__} is no builtin error"


def test_the_modules_that_had_an_error_still_export_it() -> None:
    from notifications import links, mime
    from streams import kafka
    from streams.local import broker

    assert kafka.KafkaSettingError is errors.KafkaSettingError
    assert kafka.ReadStalled is errors.ReadStalled
    assert links.InvalidToken is errors.InvalidToken
    assert links.WeakSecret is errors.WeakSecret
    assert mime.HeaderInjection is errors.HeaderInjection
    assert mime.InvalidAddress is errors.InvalidAddress
    assert broker.LocalBrokerError is errors.LocalBrokerError


# ----------------------------------------------------------------- classification


@pytest.mark.parametrize(
    "raw",
    [
        aiokafka.errors.KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 1)]"),
        aiokafka.errors.KafkaTimeoutError(),
        aiokafka.errors.RequestTimedOutError("no answer"),
        aiokafka.errors.NotLeaderForPartitionError(),
        aiokafka.errors.KafkaError("anything else aiokafka raises"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_aiokafka_error_is_a_transient_kafka_error_with_its_message_and_cause(
    raw: BaseException,
) -> None:
    classified = transient(raw)
    assert isinstance(classified, TransientKafkaError)
    assert isinstance(classified, TransientError | PreavisError | ConnectionError)
    assert classified.__cause__ is raw
    assert str(classified) == str(raw)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (ConnectionRefusedError(111, "Connection refused"), ServiceUnavailable),
        (ConnectionResetError(), ServiceUnavailable),
        (BrokenPipeError(), ServiceUnavailable),
        (TimeoutError("read timed out"), ServiceTimeout),
        (TimeoutError(), ServiceTimeout),
    ],
    ids=lambda x: x.__name__ if isinstance(x, type) else type(x).__name__,
)
def test_a_connection_or_timeout_error_is_transient(
    raw: BaseException, kind: type[TransientError]
) -> None:
    classified = transient(raw)
    assert type(classified) is kind
    assert isinstance(classified, ConnectionError if kind is ServiceUnavailable else TimeoutError)
    assert classified.__cause__ is raw and str(classified) == str(raw)


def test_our_own_transient_errors_pass_as_they_are() -> None:
    ours = TransientKafkaError("already ours")
    assert transient(ours) is ours
    assert transient(ServiceTimeout()) is not None


@pytest.mark.parametrize(
    "raw",
    [
        ValueError("bad"),
        KeyError("eve@example.org"),
        RuntimeError("a bug"),
        InvalidEvent("email", "not an address"),
        errors.KafkaRequestError("DescribeConfigs t: error 29"),
        errors.ReadStalled("t/1"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_anything_else_is_not_transient(raw: BaseException) -> None:
    assert transient(raw) is None


def test_kafka_errors_translates_aiokafka_errors_and_lets_others_through() -> None:
    raw = aiokafka.errors.KafkaConnectionError("down")
    with pytest.raises(TransientKafkaError) as caught, kafka_errors():
        raise raw
    assert caught.value.__cause__ is raw and str(caught.value) == str(raw)
    with pytest.raises(ValueError, match="mine"), kafka_errors():
        raise ValueError("mine")
    with kafka_errors():
        pass


def test_unless_topic_exists_ignores_only_that_answer() -> None:
    with unless_topic_exists():
        raise aiokafka.errors.TopicAlreadyExistsError()
    with pytest.raises(aiokafka.errors.KafkaTimeoutError), unless_topic_exists():
        raise aiokafka.errors.KafkaTimeoutError()


def test_only_the_translation_and_the_runtime_folder_name_an_aiokafka_error() -> None:
    allowed = {ROOT / "streams" / "failures.py"}
    runtime = ROOT / "streams" / "runtime"
    naming = []
    for path in sources():
        if path in allowed or runtime in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("aiokafka.errors")
            ) or (
                isinstance(node, ast.Import)
                and any(a.name.startswith("aiokafka.errors") for a in node.names)
            ):
                naming.append(str(path.relative_to(ROOT)))
    assert naming == []


# ----------------------------------------------------------------- the guarded loop


@dataclass
class Message:
    offset: int = 7
    topic: str = "t"
    partition: int = 0
    key: bytes | None = b"u-1"
    value: bytes | None = b"{}"


@dataclass
class Event:
    message: Message = field(default_factory=Message)


@dataclass
class Stream:
    async def events(self) -> AsyncIterator[Event]:
        yield Event()


@dataclass
class DeadLetters:
    errors: list[str] = field(default_factory=list)

    async def send(self, key: Any, value: bytes) -> None:
        self.errors.append(json.loads(value)["error"])


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guarded_agents, "RETRY_FIRST_DELAY", 0.0)


async def run_with(failures: list[BaseException]) -> tuple[int, list[str]]:
    """Run one event through a handler that raises ``failures`` in turn, then succeeds."""
    calls = 0
    dead = DeadLetters()

    async def handle(decoded: Any, event: Any) -> None:
        nonlocal calls
        calls += 1
        if failures:
            raise failures.pop(0)

    await guarded_agents.run_guarded(Stream(), handle, dead, decoder=lambda t, k, v: v)
    return calls, dead.errors


async def test_transient_failures_are_retried_until_the_handler_succeeds() -> None:
    failures: list[BaseException] = [
        aiokafka.errors.KafkaConnectionError(),
        ConnectionResetError(),
        TimeoutError(),
        TransientKafkaError("ours"),
    ]
    assert await run_with(failures) == (5, [])


async def test_a_transient_failure_that_lasts_is_dead_lettered_after_the_last_attempt() -> None:
    attempts = guarded_agents.RETRY_ATTEMPTS
    failures: list[BaseException] = [
        aiokafka.errors.RequestTimedOutError() for _ in range(attempts)
    ]
    calls, dead = await run_with(failures)
    assert calls == attempts
    assert dead == [
        f"gave up after {attempts} attempts: RequestTimedOutError: [Error 7] RequestTimedOutError"
    ]


async def test_a_bug_or_an_invalid_event_is_dead_lettered_at_once() -> None:
    assert await run_with([KeyError("x")]) == (1, ["internal error: KeyError: 'x'"])
    assert await run_with([InvalidEvent("email", "no")]) == (1, ["invalid event: email: no"])
