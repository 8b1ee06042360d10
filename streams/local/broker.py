"""The local single-node Kafka broker that ``preavis kafka up|down|status`` manages.

Why this exists: preavis needs a real Kafka (transactions, compacted topics,
consumer groups) on a developer's machine and in the integration tests, and
Docker is not always there. Java and Maven usually are, so the broker is the
Maven artifact ``org.apache.kafka:kafka_2.13`` (see ``deploy/kafka/pom.xml``),
fetched once into ``deploy/kafka/.cache/lib`` and run as
``java -cp 'lib/*' kafka.Kafka server.properties`` in KRaft "combined" mode:
one process that is both controller and broker, no ZooKeeper.

Run state (generated ``server.properties``, data, logs, pid file) lives in
``deploy/kafka/.run/`` or in ``$PREAVIS_KAFKA_HOME``. Ports come from
``$PREAVIS_KAFKA_PORT`` (9092) and ``$PREAVIS_KAFKA_CONTROLLER_PORT`` (9093).
With ``$PREAVIS_KAFKA_SASL_PORT`` set, the broker also has a SASL_SSL listener
there, with a test certificate and a SCRAM user (:mod:`streams.local.broker_sasl`).

Readiness is checked with the Kafka protocol itself (an ApiVersions request,
then a Metadata request that must list this node and this cluster's id), not
with a bare TCP connect: the listener accepts connections some time before the
broker serves requests, and a port answered by some other program must not
pass for our broker.

Every public function returns a one-line message for a human and raises
:class:`LocalBrokerError` with an actionable message when it cannot do its job.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import os
import re
import shutil
import signal
import socket
import string
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from notifications.errors import LocalBrokerError
from streams.local import broker_sasl as sasl

__all__ = [
    "KAFKA_DIR",
    "BrokerLayout",
    "LocalBrokerError",
    "down",
    "fetch",
    "layout",
    "main",
    "status",
    "up",
]

#: ``deploy/kafka`` of the source tree: the pom, the templates and the jar cache.
KAFKA_DIR = Path(__file__).resolve().parents[2] / "deploy" / "kafka"
POM = KAFKA_DIR / "pom.xml"
CONFIG_TEMPLATE = KAFKA_DIR / "server.properties.template"
LOG4J_CONFIG = KAFKA_DIR / "log4j2.properties"
LIB_DIR = KAFKA_DIR / ".cache" / "lib"
#: Written after a complete fetch; holds the pom's sha256 so that editing the
#: pom (another Kafka version) fetches again instead of mixing jar versions.
FETCH_MARKER = LIB_DIR / ".fetched-pom.sha256"

HOST = "127.0.0.1"
NODE_ID = 1
#: Kafka 4 needs Java 17 for the broker.
MIN_JAVA = 17
#: A modest heap: a development broker with a handful of topics needs little,
#: and the default (1 GB from the distribution's scripts) crowds small laptops.
DEFAULT_HEAP_OPTS = ("-Xmx512m", "-Xms256m")
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"

Echo = Callable[[str], None]


@dataclass(frozen=True)
class BrokerLayout:
    """Where the broker's run state lives and which ports it uses.

    Computed from the environment at call time (see :func:`layout`), so that a
    test or a second checkout can point at another folder or other ports.
    """

    run_dir: Path
    port: int
    controller_port: int
    host: str = HOST
    #: the SASL_SSL listener's port, when ``PREAVIS_KAFKA_SASL_PORT`` asks for one
    sasl_port: int | None = None

    @property
    def sasl(self) -> sasl.SaslListener | None:
        """The SASL_SSL listener's certificates and credentials, if it is enabled."""
        return sasl.from_env(self.run_dir, self.host, self.sasl_port)

    @property
    def data_dir(self) -> Path:
        """The KRaft metadata log and the topic partitions (``log.dirs``)."""
        return self.run_dir / "data"

    @property
    def logs_dir(self) -> Path:
        """``server.log`` (log4j2) and ``kafka.out`` (the JVM's stdout/stderr)."""
        return self.run_dir / "logs"

    @property
    def config_file(self) -> Path:
        """The ``server.properties`` generated from the template."""
        return self.run_dir / "server.properties"

    @property
    def pid_file(self) -> Path:
        """Pid of the broker's JVM while it runs."""
        return self.run_dir / "kafka.pid"

    @property
    def cluster_id_file(self) -> Path:
        """The cluster id the data folder was formatted with; metadata must report it."""
        return self.run_dir / "cluster.id"

    @property
    def server_log(self) -> Path:
        """The broker's own log: read this when it does not come up."""
        return self.logs_dir / "server.log"

    @property
    def stdout_file(self) -> Path:
        """The JVM's stdout and stderr (crashes before logging starts land here)."""
        return self.logs_dir / "kafka.out"

    @property
    def bootstrap(self) -> str:
        """``host:port`` for clients (``PREAVIS_KAFKA_BOOTSTRAP``)."""
        return f"{self.host}:{self.port}"


def layout() -> BrokerLayout:
    """The layout for the current environment (``PREAVIS_KAFKA_HOME`` and the two ports)."""
    home = os.environ.get("PREAVIS_KAFKA_HOME")
    run_dir = Path(home).expanduser().resolve() if home else KAFKA_DIR / ".run"
    return BrokerLayout(
        run_dir=run_dir,
        port=_env_port("PREAVIS_KAFKA_PORT", 9092),
        controller_port=_env_port("PREAVIS_KAFKA_CONTROLLER_PORT", 9093),
        sasl_port=_env_port(sasl.SASL_PORT_ENV, 0) or None,
    )


def _env_port(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise LocalBrokerError(f"{name}={raw!r} is not a TCP port")
    return int(raw)


# --------------------------------------------------------------------------- fetch


def fetch(*, echo: Echo | None = None) -> str:
    """Put the broker's jars in ``deploy/kafka/.cache/lib`` unless they are already there.

    Maven resolves ``kafka_2.13`` and its runtime dependencies from Maven
    Central (or ``~/.m2``). The lib folder is emptied first so that jars of a
    previous Kafka version never end up on the same class path.
    """
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    if _fetched(digest):
        return f"Kafka jars already fetched in {LIB_DIR}"
    running = _live_pid(layout())
    if running is not None:
        raise LocalBrokerError(
            f"the pom changed but Kafka (pid {running}) runs from the current jars; "
            "`preavis kafka down` first, then fetch or up again"
        )
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalBrokerError(
            "`mvn` (Apache Maven) is not on PATH: it fetches the Kafka broker "
            "(e.g. `apt-get install maven`), or run Kafka some other way "
            "(deploy/docker-compose.yml) and set PREAVIS_KAFKA_BOOTSTRAP"
        )
    _java()  # fail before a long download if the jars could not run anyway
    if echo:
        echo(f"fetching the Kafka broker with Maven into {LIB_DIR} ...")
    started = time.monotonic()
    shutil.rmtree(LIB_DIR, ignore_errors=True)
    LIB_DIR.mkdir(parents=True)
    cmd = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={LIB_DIR}",
        "-DincludeScope=runtime",
    ]
    done = subprocess.run(cmd, cwd=KAFKA_DIR, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = _tail_text(done.stdout + done.stderr, 30)
        raise LocalBrokerError(
            f"Maven could not fetch the broker (exit {done.returncode}):\n{tail}"
        )
    if not list(LIB_DIR.glob("kafka_2.13-*.jar")):
        raise LocalBrokerError(f"Maven finished but no kafka_2.13 jar is in {LIB_DIR}")
    FETCH_MARKER.write_text(digest + "\n", encoding="ascii")
    jars = len(list(LIB_DIR.glob("*.jar")))
    return (
        f"fetched Kafka {kafka_version()} ({jars} jars) into {LIB_DIR} "
        f"in {time.monotonic() - started:.1f}s"
    )


def _fetched(digest: str) -> bool:
    try:
        return FETCH_MARKER.read_text(encoding="ascii").strip() == digest
    except FileNotFoundError:
        return False


def kafka_version() -> str:
    """The version of the fetched broker, read off the jar's name ("unknown" before a fetch)."""
    for jar in LIB_DIR.glob("kafka_2.13-*.jar"):
        return jar.name.removeprefix("kafka_2.13-").removesuffix(".jar")
    return "unknown"


def _java() -> str:
    """The ``java`` to run, checked to be recent enough for Kafka 4."""
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    java = str(candidate) if candidate and candidate.is_file() else shutil.which("java")
    if java is None:
        raise LocalBrokerError(
            "`java` is not on PATH (nor in $JAVA_HOME/bin): the Kafka broker needs "
            f"a Java {MIN_JAVA}+ runtime (e.g. `apt-get install openjdk-17-jre-headless`)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if found:
        major = int(found.group(1))
        if major == 1 and found.group(2):  # "1.8.0_392" is Java 8
            major = int(found.group(2))
        if major < MIN_JAVA:
            raise LocalBrokerError(
                f"{java} is Java {major}; the Kafka broker needs Java {MIN_JAVA} or newer"
            )
    return java


# --------------------------------------------------------------------------- up


def up(timeout: float = 90.0, *, echo: Echo | None = None) -> str:
    """Start the broker in the background and wait until it serves Kafka requests.

    Idempotent: when our broker already runs and answers, says so and returns
    at once; when it runs but is still starting, waits for it. A pid file left
    by a dead broker is removed. Fetches the jars and formats the storage the
    first time. The broker keeps running after this process exits (own session,
    output to files); :func:`down` stops it.
    """
    lay = layout()
    started = time.monotonic()
    pid = _live_pid(lay)
    if pid is not None:
        _check_listener_matches(lay)
        meta = _probe(lay)
        if meta is not None:
            done = _finish_sasl(lay, _java() if lay.sasl else "", started + timeout)
            extra = f"; {', '.join(done)}" if done else ""
            return f"Kafka already running on {lay.bootstrap} (pid {pid}){extra}{_sasl_note(lay)}"
        if echo:
            echo(f"Kafka (pid {pid}) is running but not answering yet; waiting ...")
        _wait_ready(lay, pid, started + timeout)
        _finish_sasl(lay, _java() if lay.sasl else "", started + timeout)
        return f"Kafka running on {lay.bootstrap} (pid {pid}){_sasl_note(lay)}"
    notes: list[str] = []
    if lay.pid_file.exists():
        lay.pid_file.unlink()
        notes.append("removed a stale pid file")
    _check_ports_free(lay)

    fetched = fetch(echo=echo)
    if echo and not fetched.startswith("Kafka jars already"):
        echo(fetched)
    java = _java()
    for folder in (lay.run_dir, lay.data_dir, lay.logs_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if lay.sasl is not None:
        notes += sasl.prepare(lay.sasl)
    _write_config(lay)
    if _format_if_needed(lay, java):
        notes.append("formatted new storage")

    pid = _spawn(lay, java)
    if echo:
        echo(f"started Kafka {kafka_version()} (pid {pid}); waiting for {lay.bootstrap} ...")
    _wait_ready(lay, pid, started + timeout)
    notes += _finish_sasl(lay, java, started + timeout)
    extra = f"; {', '.join(notes)}" if notes else ""
    return (
        f"Kafka {kafka_version()} up on {lay.bootstrap} (pid {pid}) "
        f"in {time.monotonic() - started:.1f}s{extra}; log: {lay.server_log}{_sasl_note(lay)}"
    )


def _finish_sasl(lay: BrokerLayout, java: str, deadline: float) -> list[str]:
    """Once the broker answers: its SCRAM user exists and its SASL_SSL listener speaks TLS."""
    if lay.sasl is None:
        return []
    notes = []
    if sasl.add_users_if_needed(lay.sasl, _tool_base(lay, java), lay.bootstrap):
        notes.append(f"added the SCRAM user {sasl.USERNAME!r} to the existing storage")
    sasl.wait_tls(lay.sasl, deadline)
    return notes


def _sasl_note(lay: BrokerLayout) -> str:
    return "" if lay.sasl is None else "\n" + sasl.describe(lay.sasl)


def _check_listener_matches(lay: BrokerLayout) -> None:
    """A running broker without the SASL_SSL listener cannot serve a client that wants it."""
    if lay.sasl is None:
        return
    try:
        config = lay.config_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        config = ""
    if f"SASL_SSL://{lay.sasl.bootstrap}" not in config:
        raise LocalBrokerError(
            f"Kafka runs from {lay.run_dir} without a SASL_SSL listener on "
            f"{lay.sasl.bootstrap}; `preavis kafka down`, then `preavis kafka up` again "
            f"with {sasl.SASL_PORT_ENV} set"
        )


def _write_config(lay: BrokerLayout) -> None:
    """Render the template; regenerated on every start so template edits take effect."""
    template = string.Template(CONFIG_TEMPLATE.read_text(encoding="utf-8"))
    text = template.substitute(
        host=lay.host,
        port=lay.port,
        controller_port=lay.controller_port,
        data_dir=lay.data_dir,
        **sasl.config_values(lay.sasl),
    )
    lay.config_file.write_text(text, encoding="utf-8")


def _jvm_base(lay: BrokerLayout, java: str) -> list[str]:
    heap = os.environ.get("KAFKA_HEAP_OPTS", "").split() or list(DEFAULT_HEAP_OPTS)
    return [
        java,
        *heap,
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        f"-Dkafka.logs.dir={lay.logs_dir}",
        "-cp",
        f"{LIB_DIR}{os.sep}*",
    ]


def _tool_base(lay: BrokerLayout, java: str) -> list[str]:
    """The JVM of a Kafka command-line tool run while the broker runs: its own log folder."""
    tool_logs = lay.logs_dir / "tools"
    tool_logs.mkdir(parents=True, exist_ok=True)
    logs_arg = f"-Dkafka.logs.dir={lay.logs_dir}"
    return [f"-Dkafka.logs.dir={tool_logs}" if a == logs_arg else a for a in _jvm_base(lay, java)]


def _format_if_needed(lay: BrokerLayout, java: str) -> bool:
    """Format the data folder once: KRaft refuses to start on an unformatted one.

    The cluster id is kept in the run folder because the readiness check
    compares it with what the broker reports.
    """
    if (lay.data_dir / "meta.properties").exists():
        return False
    base = _jvm_base(lay, java)
    if lay.cluster_id_file.exists():
        cluster_id = lay.cluster_id_file.read_text(encoding="ascii").strip()
    else:
        made = _run_tool([*base, STORAGE_TOOL, "random-uuid"], "make a cluster id")
        cluster_id = made.strip().splitlines()[-1].strip()
        lay.cluster_id_file.write_text(cluster_id + "\n", encoding="ascii")
    _run_tool(
        [
            *(*base, STORAGE_TOOL, "format", "-t", cluster_id, "-c", str(lay.config_file)),
            *sasl.format_args(lay.sasl),
        ],
        "format the storage",
    )
    sasl.mark_users_added(lay.sasl)
    return True


def _run_tool(cmd: list[str], what: str) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        tail = _tail_text(done.stdout + done.stderr, 20)
        raise LocalBrokerError(f"could not {what} (exit {done.returncode}):\n{tail}")
    return done.stdout


def _spawn(lay: BrokerLayout, java: str) -> int:
    """Start the JVM detached: new session, no terminal, output appended to a file.

    A throw-away ``sh`` starts it in the background and prints its pid, so the
    JVM is never our child: it outlives this process without becoming a
    zombie of it, and Python does not warn about a subprocess left running.
    """
    cmd = [*_jvm_base(lay, java), MAIN_CLASS, str(lay.config_file)]
    with lay.stdout_file.open("ab") as out:
        out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd)}\n".encode())
    script = 'out=$1; shift; "$@" </dev/null >>"$out" 2>&1 & echo $!'
    done = subprocess.run(
        ["/bin/sh", "-c", script, "sh", str(lay.stdout_file), *cmd],
        cwd=lay.run_dir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,
        check=False,
        timeout=30,
    )
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        raise LocalBrokerError(f"could not start {java}: {done.stderr.strip() or done.stdout}")
    pid = int(done.stdout.strip())
    lay.pid_file.write_text(f"{pid}\n", encoding="ascii")
    return pid


def _wait_ready(lay: BrokerLayout, pid: int, deadline: float) -> None:
    while True:
        if not _alive(pid):
            lay.pid_file.unlink(missing_ok=True)
            raise LocalBrokerError(
                f"Kafka (pid {pid}) exited while starting. Last lines of {lay.server_log}:\n"
                f"{_tail_file(lay.server_log, 15)}\n{lay.stdout_file}:\n"
                f"{_tail_file(lay.stdout_file, 10)}"
            )
        if _probe(lay) is not None:
            return
        if time.monotonic() >= deadline:
            raise LocalBrokerError(
                f"Kafka (pid {pid}) did not answer on {lay.bootstrap} in time; it is left "
                f"running (`preavis kafka up` again waits for it, `preavis kafka down` "
                f"stops it). Last lines of {lay.server_log}:\n{_tail_file(lay.server_log, 15)}"
            )
        time.sleep(0.25)


def _check_ports_free(lay: BrokerLayout) -> None:
    """Refuse to start when another program holds one of our ports, and say which."""
    ports = [(lay.port, "client"), (lay.controller_port, "controller")]
    if lay.sasl_port is not None:
        ports.append((lay.sasl_port, "SASL_SSL"))
    for port, role in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((lay.host, port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
            else:
                continue
        what = "something else"
        if port == lay.port and _probe(lay, any_cluster=True) is not None:
            what = f"a Kafka broker that does not run from {lay.run_dir}"
        raise LocalBrokerError(
            f"{lay.host}:{port} (the {role} port) is already in use by {what}; "
            f"see `ss -ltnp 'sport = :{port}'`. Stop it, or use other ports with "
            f"PREAVIS_KAFKA_PORT / PREAVIS_KAFKA_CONTROLLER_PORT / {sasl.SASL_PORT_ENV} (and point "
            "PREAVIS_KAFKA_BOOTSTRAP at the broker you want)"
        )


# --------------------------------------------------------------------------- down


def down(timeout: float = 30.0) -> str:
    """Stop the broker: SIGTERM (controlled shutdown), SIGKILL after ``timeout`` seconds.

    Not running is not an error: there is nothing to do, and the message says so.
    """
    lay = layout()
    pid = _live_pid(lay)
    if pid is None:
        stale = lay.pid_file.exists()
        lay.pid_file.unlink(missing_ok=True)
        return "Kafka is not running" + (" (removed a stale pid file)" if stale else "")
    started = time.monotonic()
    _signal(pid, signal.SIGTERM)
    if _wait_exit(pid, started + timeout):
        lay.pid_file.unlink(missing_ok=True)
        return f"Kafka (pid {pid}) stopped in {time.monotonic() - started:.1f}s"
    _signal(pid, signal.SIGKILL)
    if not _wait_exit(pid, time.monotonic() + 10):
        raise LocalBrokerError(f"Kafka (pid {pid}) survived SIGKILL; check `ps -p {pid}`")
    lay.pid_file.unlink(missing_ok=True)
    return (
        f"Kafka (pid {pid}) did not stop within {timeout:.0f}s of SIGTERM and was killed; "
        "the next start recovers its logs"
    )


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _wait_exit(pid: int, deadline: float) -> bool:
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


# --------------------------------------------------------------------------- status


def status() -> tuple[bool, str]:
    """Whether our broker runs and answers Kafka requests, and a sentence saying so."""
    lay = layout()
    pid = _live_pid(lay)
    if pid is None:
        stale = " (stale pid file)" if lay.pid_file.exists() else ""
        if _probe(lay, any_cluster=True) is not None:
            return False, (
                f"Kafka is not running from {lay.run_dir}{stale}, but another Kafka "
                f"broker answers on {lay.bootstrap}"
            )
        return False, f"Kafka is not running{stale}"
    meta = _probe(lay)
    if meta is None:
        return False, (
            f"Kafka process {pid} is alive but does not answer on {lay.bootstrap} "
            f"(starting, or stuck: see {lay.server_log})"
        )
    return True, (
        f"Kafka {kafka_version()} running on {lay.bootstrap} (pid {pid}, cluster {meta.cluster_id})"
        + _sasl_note(lay)
    )


# --------------------------------------------------------------------------- processes


def _live_pid(lay: BrokerLayout) -> int | None:
    """The pid in the pid file if that process is alive and is our broker, else None.

    Checks the command line too, so a pid recycled by an unrelated process
    after a crash or reboot is not mistaken for the broker (and never signalled).
    """
    try:
        pid = int(lay.pid_file.read_text(encoding="ascii").strip())
    except (FileNotFoundError, ValueError):
        return None
    if not _alive(pid):
        return None
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return pid  # no /proc (macOS): trust the pid file
    if MAIN_CLASS.encode() in argv and str(lay.config_file).encode() in argv:
        return pid
    return None


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (exited child not yet reaped) counts as dead."""
    with contextlib.suppress(ChildProcessError):
        # When up() and down() run in the same Python process the JVM is our
        # child: reap it, or it lingers as a zombie that kill(pid, 0) sees.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


# --------------------------------------------------------------------------- protocol


@dataclass(frozen=True)
class _Metadata:
    cluster_id: str | None
    brokers: tuple[tuple[int, str, int], ...]


def _probe(lay: BrokerLayout, *, any_cluster: bool = False) -> _Metadata | None:
    """Ask ``lay.bootstrap`` for cluster metadata; None unless our broker serves it.

    "Ours" means: it lists node 1 at our address and (unless ``any_cluster``)
    reports the cluster id we formatted with. Any error means "not (yet) ready".
    """
    try:
        meta = _metadata(lay.host, lay.port, timeout=2.0)
    except (OSError, ValueError, struct.error):
        return None
    if (NODE_ID, lay.host, lay.port) not in meta.brokers and not any_cluster:
        return None
    if not meta.brokers:
        return None
    if not any_cluster and lay.cluster_id_file.exists():
        expected = lay.cluster_id_file.read_text(encoding="ascii").strip()
        if meta.cluster_id != expected:
            return None
    return meta


def _metadata(host: str, port: int, timeout: float) -> _Metadata:
    """ApiVersions v0, then Metadata v4 for no topics, over one plain socket.

    Raw protocol rather than aiokafka: synchronous, no logging noise while the
    broker is still starting, and nothing to set up. v0/v4 are non-flexible
    versions every Kafka from 1.0 to 4.x serves (4.0 dropped Metadata v0-3).
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        body = _request(sock, api_key=18, version=0, correlation=1, payload=b"")
        (error,) = struct.unpack_from(">h", body, 0)
        if error != 0:
            raise ValueError(f"ApiVersions error {error}")
        # topics: empty array = no topics; allow_auto_topic_creation: false
        body = _request(sock, api_key=3, version=4, correlation=2, payload=b"\x00\x00\x00\x00\x00")
    reader = _Reader(body)
    reader.int32()  # throttle_time_ms
    brokers = []
    for _ in range(reader.int32()):
        node_id = reader.int32()
        broker_host = reader.string() or ""
        broker_port = reader.int32()
        reader.string()  # rack
        brokers.append((node_id, broker_host, broker_port))
    cluster_id = reader.string()
    return _Metadata(cluster_id=cluster_id, brokers=tuple(brokers))


def _request(
    sock: socket.socket, *, api_key: int, version: int, correlation: int, payload: bytes
) -> bytes:
    client_id = b"preavis-localbroker"
    header = struct.pack(">hhih", api_key, version, correlation, len(client_id)) + client_id
    message = header + payload
    sock.sendall(struct.pack(">i", len(message)) + message)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    response = _recv_exact(sock, size)
    (got,) = struct.unpack_from(">i", response, 0)
    if got != correlation:
        raise ValueError("not a Kafka response")
    return response[4:]


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    if not 0 <= size <= 16 * 1024 * 1024:
        raise ValueError("not a Kafka response")
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        chunks += chunk
    return bytes(chunks)


class _Reader:
    """Sequential reads of the big-endian, non-flexible Kafka wire types."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def int32(self) -> int:
        (value,) = struct.unpack_from(">i", self._data, self._at)
        self._at += 4
        return int(value)

    def string(self) -> str | None:
        (length,) = struct.unpack_from(">h", self._data, self._at)
        self._at += 2
        if length < 0:
            return None
        raw = self._data[self._at : self._at + length]
        self._at += length
        return raw.decode("utf-8")


# --------------------------------------------------------------------------- helpers


def _tail_text(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _tail_file(path: Path, lines: int) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            return _tail_text(handle.read().decode("utf-8", errors="replace"), lines)
    except FileNotFoundError:
        return "(no such file)"


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m streams.local.broker up|down|status|fetch``; 0 on success, 1 otherwise.

    ``status`` exits 1 when the broker is not running, so scripts can test it.
    """
    parser = argparse.ArgumentParser(
        prog="python -m streams.local.broker",
        description="The local single-node Kafka broker (KRaft) for development and tests.",
    )
    parser.add_argument("command", choices=("up", "down", "status", "fetch"))
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds to wait (up: 90, down: 30)"
    )
    args = parser.parse_args(argv)

    def echo(line: str) -> None:
        print(line, flush=True)

    try:
        if args.command == "up":
            echo(up(args.timeout or 90.0, echo=echo))
        elif args.command == "down":
            echo(down(args.timeout or 30.0))
        elif args.command == "fetch":
            echo(fetch(echo=echo))
        else:
            running, message = status()
            echo(message)
            return 0 if running else 1
    except LocalBrokerError as exc:
        echo(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
