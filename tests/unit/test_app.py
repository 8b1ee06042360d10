"""The app factory wires every domain: a module that fails to import must not
silently drop an agent or a view."""

from __future__ import annotations

from pathlib import Path

from streams.app import changelog_specs, create_app
from streams.runtime.rewind import RewindingConsumer, RewindingTransport
from streams.settings import Settings
from streams.topics import TOPIC_SPECS

EXPECTED_AGENTS = {
    "directory",
    "campaign_intake_purposes",
    "campaign_intake_terms",
    "campaign_fanout",
    "campaign_ledger",
    "delivery",
    "delivery_retries",
    "objection_requests",
    "consent_objections",
}
EXPECTED_VIEWS = {
    "/healthz",
    "/o/{token}",
    "/object",
    "/api/v1/objections",
    "/api/v1/exclusions",
    "/api/v1/campaigns",
    "/api/v1/campaigns/{campaign_id}",
    "/api/v1/users/{user_id}/notices",
    "/dashboard",
    "/metrics",
}
EXPECTED_TABLES = {
    "directory",
    "campaigns_seen",
    "campaign_shards",
    "late_decisions",
    "campaign_finals",
    "exclusions",
    "campaigns",
    "deliveries",
    "suppression",
    "objections",
}


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "app_id": "preavis-unit",
        "store": "memory://",
        "data_dir": str(tmp_path),
        "topic_partitions": 6,
        "link_secret": "unit-test-link-secret-0123456789",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_every_expected_agent_view_and_table_is_registered(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))

    agent_names = {agent.name.rsplit(".", 1)[-1] for agent in app.agents.values()}
    view_paths = {path for path, _ in app.web.views.items()}

    assert agent_names >= EXPECTED_AGENTS
    assert view_paths >= EXPECTED_VIEWS
    assert set(app.tables.keys()) >= EXPECTED_TABLES


def test_every_contract_topic_is_declared_with_the_configured_partitions(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, topic_partitions=6))

    declared = app.preavis.topics
    for spec in TOPIC_SPECS:
        topic = next(t for t in vars(declared).values() if spec.name in t.topics)
        assert topic.partitions == 6, spec.name
        assert (topic.config or {}).get("cleanup.policy") == (
            "compact" if spec.compacted else "delete"
        ), spec.name


def test_two_apps_share_nothing(tmp_path: Path) -> None:
    first = create_app(make_settings(tmp_path, app_id="one"))
    second = create_app(make_settings(tmp_path, app_id="two"))

    assert first is not second
    assert first.tables["directory"] is not second.tables["directory"]


def test_the_consumer_rewinds_partitions_without_a_commit(tmp_path: Path) -> None:
    """Faust's consumer is built from the app's transport; ours is the rewinding one."""
    app = create_app(make_settings(tmp_path))

    assert isinstance(app.transport, RewindingTransport)
    thread_factory = app.transport.Consumer._new_consumer_thread
    assert thread_factory is RewindingConsumer._new_consumer_thread


def test_every_table_changelog_is_declared_compacted_before_the_worker_starts(
    tmp_path: Path,
) -> None:
    app = create_app(make_settings(tmp_path, app_id="preavis-unit"))

    specs = {spec.name: spec for spec in changelog_specs(app)}

    assert set(specs) == {f"preavis-unit-{name}-changelog" for name in app.tables}
    assert set(specs) >= {f"preavis-unit-{name}-changelog" for name in EXPECTED_TABLES}
    assert all(spec.config() == {"cleanup.policy": "compact"} for spec in specs.values())
