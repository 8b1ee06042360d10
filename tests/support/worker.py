"""Real ``preavis worker`` processes for integration tests.

Each worker is the console script in a subprocess, configured only through its
environment, exactly as an operator would run it. The fixture waits for
``/healthz`` (served once tables are recovered) and stops the worker with
SIGTERM, the way an orchestrator does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

PREAVIS = str(Path(sys.executable).with_name("preavis"))

#: The table store of the test workers: ``memory://`` by default (fast, and
#: each test's worker starts empty); ``.ci/run`` runs the integration tests a
#: second time with ``PREAVIS_TEST_STORE=rocksdb://``, the production default,
#: so that the RocksDB paths (``streams.runtime.partition_scan``) run too.
TEST_STORE = os.environ.get("PREAVIS_TEST_STORE", "memory://")


@dataclass
class WorkerProcess:
    """A running worker, its port and its log file."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise TimeoutError(f"worker not healthy after {timeout}s:\n{self.log()[-5000:]}")

    def stop(self, timeout: float = 30.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def kill(self) -> None:
        """Die without a goodbye: no commit, no graceful leave."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def start_worker(env: dict[str, str], log_dir: Path, name: str = "worker") -> WorkerProcess:
    """Start ``preavis worker`` with ``env`` added to this process's environment."""
    # development mode unless a test says otherwise: http and localhost URLs
    full_env = {"PREAVIS_DEVELOPMENT": "true", **os.environ, **env}
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [PREAVIS, "worker", "--loglevel", "info"],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return WorkerProcess(process, int(full_env["PREAVIS_WEB_PORT"]), log_path, env)


def run_preavis(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``preavis ARGS`` against the suite's broker, its output captured."""
    from tests.support.kafka import BOOTSTRAP

    return subprocess.run(
        [PREAVIS, *args],
        env={**os.environ, **env, "PREAVIS_KAFKA_BOOTSTRAP": BOOTSTRAP},
        capture_output=True,
        text=True,
        timeout=120,
    )
