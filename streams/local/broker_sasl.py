"""The local broker's optional SASL_SSL listener: a test CA, a server certificate, SCRAM users.

Why: preavis must prove that it works on a cluster that asks every client for
TLS and a SCRAM login, and the proof needs such a broker on a developer's
machine and in CI. With ``PREAVIS_KAFKA_SASL_PORT`` set, ``preavis kafka up``
adds a ``SASL_SSL://127.0.0.1:$PREAVIS_KAFKA_SASL_PORT`` listener to the broker
it starts (the PLAINTEXT listener stays, on loopback, for the broker's own
readiness check and for the local tools).

Everything it makes lives in ``<run folder>/security/``:

- ``ca.pem`` (and its key): a certificate authority made for this run folder
  with ``openssl``; clients trust it with ``PREAVIS_KAFKA_SSL_CAFILE``;
- ``server.pem``: the broker's key and certificate (for ``127.0.0.1`` and
  ``localhost``), signed by that CA, as Kafka's PEM key store;
- ``client.env``: the ``PREAVIS_KAFKA_*`` settings of a client of the
  listener, the user ``preavis`` and its generated password included (mode
  0600; ``set -a; . client.env; set +a`` before ``preavis worker``).

The SCRAM credentials (SHA-256 and SHA-512) enter the cluster's metadata
when the storage is formatted (``kafka-storage format --add-scram``); a run
folder formatted before the listener was first enabled gets them from
``kafka-configs --alter`` over the PLAINTEXT listener once the broker is up.
"""

from __future__ import annotations

import os
import secrets
import socket
import ssl
import string
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from notifications.errors import SaslSetupError

SASL_PORT_ENV = "PREAVIS_KAFKA_SASL_PORT"
USERNAME = "preavis"
MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
#: what client.env proposes; both mechanisms work
CLIENT_MECHANISM = "SCRAM-SHA-512"
CONFIG_COMMAND = "kafka.admin.ConfigCommand"
TEMPLATE = Path(__file__).resolve().parents[2] / "deploy/kafka/sasl_ssl.properties.template"
PASSWORD_VARIABLE = "PREAVIS_KAFKA_SASL_PASSWORD"


@dataclass(frozen=True)
class SaslListener:
    """Where the listener's certificates and credentials live, and its port."""

    run_dir: Path
    port: int
    host: str

    @property
    def folder(self) -> Path:
        return self.run_dir / "security"

    @property
    def ca_file(self) -> Path:
        """The CA's certificate: what a client trusts (``PREAVIS_KAFKA_SSL_CAFILE``)."""
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def keystore(self) -> Path:
        """The broker's private key and certificate chain (``ssl.keystore.type=PEM``)."""
        return self.folder / "server.pem"

    @property
    def credentials_file(self) -> Path:
        """``client.env``: every setting a client needs, the password included."""
        return self.folder / "client.env"

    @property
    def scram_marker(self) -> Path:
        """Present once the cluster holds the SCRAM credentials of ``client.env``."""
        return self.folder / "scram-users.added"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"


def from_env(run_dir: Path, host: str, port: int | None) -> SaslListener | None:
    """The listener asked for by ``PREAVIS_KAFKA_SASL_PORT``, if any (``port`` is its value)."""
    return None if port is None else SaslListener(run_dir=run_dir, port=port, host=host)


# --------------------------------------------------------------------------- files


def prepare(listener: SaslListener) -> list[str]:
    """Make the CA, the server certificate and the password unless they exist; say what was made."""
    listener.folder.mkdir(parents=True, exist_ok=True)
    os.chmod(listener.folder, 0o700)
    made: list[str] = []
    if not (listener.ca_file.exists() and listener.keystore.exists()):
        _make_certificates(listener)
        made.append(f"made a test CA ({listener.ca_file}) and a broker certificate")
    password = read_password(listener)
    if password is None:
        password = secrets.token_urlsafe(24)
        listener.scram_marker.unlink(missing_ok=True)  # a new password is not in the cluster yet
        made.append(f"made the SCRAM user {USERNAME!r}")
    _write_private(listener.credentials_file, client_env(listener, password))
    return made


def client_env(listener: SaslListener, password: str) -> str:
    """The settings of a client of the listener, in ``KEY=value`` lines."""
    return (
        "# Kafka client settings for the SASL_SSL listener of the local broker,\n"
        "# written by `preavis kafka up`. Use: set -a; . ./client.env; set +a\n"
        f"PREAVIS_KAFKA_BOOTSTRAP={listener.bootstrap}\n"
        "PREAVIS_KAFKA_SECURITY_PROTOCOL=SASL_SSL\n"
        f"PREAVIS_KAFKA_SASL_MECHANISM={CLIENT_MECHANISM}\n"
        f"PREAVIS_KAFKA_SASL_USERNAME={USERNAME}\n"
        f"{PASSWORD_VARIABLE}={password}\n"
        f"PREAVIS_KAFKA_SSL_CAFILE={listener.ca_file}\n"
    )


def read_client_env(path: Path) -> dict[str, str]:
    """The ``KEY=value`` lines of a ``client.env`` (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip()
    return values


def read_password(listener: SaslListener) -> str | None:
    """The password kept in ``client.env``, or None when there is none yet."""
    if not listener.credentials_file.exists():
        return None
    return read_client_env(listener.credentials_file).get(PASSWORD_VARIABLE) or None


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _make_certificates(listener: SaslListener) -> None:
    """A CA and a broker certificate signed by it, with ``openssl`` (EC P-256, PKCS#8 keys)."""
    folder = listener.folder
    server_key, csr, cert = folder / "server.key", folder / "server.csr", folder / "server.crt"
    extensions = folder / "server.ext"
    extensions.write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        f"subjectAltName=IP:{listener.host},DNS:localhost\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n",
        encoding="ascii",
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc"]
    ca_name = f"/CN=preavis local Kafka CA {secrets.token_hex(4)}"
    _openssl(
        *("req", "-x509", *ec, "-keyout", str(listener.ca_key), "-out", str(listener.ca_file)),
        *("-days", "3650", "-subj", ca_name),
        *("-addext", "basicConstraints=critical,CA:TRUE"),
        *("-addext", "keyUsage=critical,keyCertSign,cRLSign"),
    )
    _openssl("req", *ec, "-keyout", str(server_key), "-out", str(csr), "-subj", "/CN=localhost")
    _openssl(
        *("x509", "-req", "-in", str(csr), "-CA", str(listener.ca_file)),
        *("-CAkey", str(listener.ca_key), "-set_serial", str(secrets.randbits(63))),
        *("-days", "825", "-extfile", str(extensions), "-out", str(cert)),
    )
    _write_private(
        listener.keystore,
        server_key.read_text(encoding="ascii") + cert.read_text(encoding="ascii"),
    )
    for path in (listener.ca_key, server_key):
        os.chmod(path, 0o600)
    for path in (csr, extensions):
        path.unlink()


def _openssl(*args: str) -> None:
    try:
        done = subprocess.run(
            ["openssl", *args], capture_output=True, text=True, check=False, timeout=60
        )
    except FileNotFoundError as exc:
        raise SaslSetupError(
            "`openssl` is not on PATH: it makes the test certificates of the SASL_SSL "
            "listener (e.g. `apt-get install openssl`)"
        ) from exc
    if done.returncode != 0:
        raise SaslSetupError(f"openssl {args[0]} failed: {done.stderr.strip()[-2000:]}")


# --------------------------------------------------------------------------- broker config


def config_values(listener: SaslListener | None) -> dict[str, str]:
    """Placeholders of ``server.properties.template``: empty without the listener."""
    if listener is None:
        return {"sasl_listener": "", "sasl_protocol": "", "sasl_config": ""}
    snippet = string.Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        mechanisms=",".join(MECHANISMS),
        keystore=listener.keystore,
        truststore=listener.ca_file,
    )
    return {
        "sasl_listener": f",SASL_SSL://{listener.bootstrap}",
        "sasl_protocol": ",SASL_SSL:SASL_SSL",
        "sasl_config": "\n" + snippet,
    }


def format_args(listener: SaslListener | None) -> list[str]:
    """``--add-scram`` arguments of ``kafka-storage format`` for the listener's user."""
    if listener is None:
        return []
    password = _password(listener)
    args: list[str] = []
    for mechanism in MECHANISMS:
        args += ["--add-scram", f"{mechanism}=[name={USERNAME},password={password}]"]
    return args


def mark_users_added(listener: SaslListener | None) -> None:
    """Remember that the cluster's metadata holds the user of ``client.env``."""
    if listener is not None:
        listener.scram_marker.write_text(USERNAME + "\n", encoding="ascii")


def add_users_if_needed(listener: SaslListener, tool_cmd: list[str], plaintext: str) -> bool:
    """Give a running broker the SCRAM user unless its storage already has it.

    For a run folder formatted before the listener was enabled (or whose
    ``client.env`` was deleted): ``kafka-configs --alter`` through the
    PLAINTEXT listener ``plaintext``. True when it did something.
    """
    if listener.scram_marker.exists():
        return False
    password = _password(listener)
    for mechanism in MECHANISMS:  # Kafka alters one credential of a user per request
        cmd = [*tool_cmd, CONFIG_COMMAND, "--bootstrap-server", plaintext, "--alter"]
        cmd += ["--entity-type", "users", "--entity-name", USERNAME]
        cmd += ["--add-config", f"{mechanism}=[password={password}]"]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            output = (done.stdout + done.stderr).replace(password, "***")
            tail = "\n".join(output.strip().splitlines()[-15:])
            raise SaslSetupError(
                f"could not add the SCRAM user {USERNAME!r} ({mechanism}):\n{tail}"
            )
    mark_users_added(listener)
    return True


def _password(listener: SaslListener) -> str:
    password = read_password(listener)
    if password is None:
        raise SaslSetupError(f"{listener.credentials_file} has no {PASSWORD_VARIABLE}")
    return password


# --------------------------------------------------------------------------- readiness


def wait_tls(listener: SaslListener, deadline: float) -> None:
    """Wait until the listener completes a TLS handshake that verifies against our CA."""
    context = ssl.create_default_context(cafile=str(listener.ca_file))
    last: Exception | None = None
    while True:
        try:
            with (
                socket.create_connection((listener.host, listener.port), timeout=2) as raw,
                context.wrap_socket(raw, server_hostname=listener.host),
            ):
                return
        except ssl.SSLCertVerificationError as exc:
            raise SaslSetupError(
                f"the SASL_SSL listener on {listener.bootstrap} presents a certificate "
                f"that {listener.ca_file} does not verify: {exc}"
            ) from exc
        except (OSError, ssl.SSLError) as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise SaslSetupError(f"no TLS handshake on {listener.bootstrap} in time: {last}")
        time.sleep(0.25)


def describe(listener: SaslListener) -> str:
    """Where a client finds what it needs, for the messages of ``up`` and ``status``."""
    return (
        f"SASL_SSL (SCRAM) on {listener.bootstrap}; CA: {listener.ca_file}; "
        f"client settings and password: {listener.credentials_file}"
    )
