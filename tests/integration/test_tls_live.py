"""TLS against real gluster, with a CA made for the session: the I/O path on
the shared cluster's pyg_tls (client.ssl and server.ssl on, auth.ssl-allow
HOST,pyg-alice), the management path on a glusterd of the test's own with
secure-access, in namespaces of its own (private_glusterd.py), since the
marker would turn management TLS on for every client and brick on the machine.

The brick reads gluster's glusterfs.pem/.key/.ca from OpenSSL's folder at
every connection (socket.c ssl_setup_connection_params), so the fixture
installs the session's server certificate and CA there and puts back what was
there afterwards; tests that need another server certificate swap it for one
connection's worth. libgfapi (qemu-io) presents the same glusterfs.pem (CN is
the brick host) as its client certificate.

Each refusal the issue lists gets a test; every failure is asserted to be our
own error type with a message naming the brick and what to fix, and to come
within the connect timeout (pytest-timeout catches a hang).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import pygluster
from pygluster.errors import MgmtError, TlsError
from pygluster.testing.pool import PrivateGlusterd
from pygluster.tls import TlsOptions
from tests.integration.conftest import BRICK_ROOT, gluster, qemu, run_cli
from tests.tlsca import Authority, Identity

if TYPE_CHECKING:
    from collections.abc import Iterator

VOLUME = "pyg_tls"
MiB = 1024 * 1024
# Refusals must come fast: well inside this, never at a reply deadline.
CONNECT_TIMEOUT = 5.0

pytestmark = pytest.mark.timeout(120)


def openssl_dir() -> Path:
    out = subprocess.run(
        ["openssl", "version", "-d"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r'OPENSSLDIR: "([^"]+)"', out)
    assert match, out
    return Path(match.group(1))


class Pki:
    """The session's CAs and certificates, and the brick's installed files."""

    def __init__(self, host: str, folder: Path) -> None:
        self.host = host
        self.folder = folder
        self.root = Authority("pyg-test-root", folder)
        self.stranger_root = Authority("pyg-stranger-root", folder)
        self.intermediate = Authority("pyg-test-intermediate", folder, parent=self.root)
        self.server = self.root.issue(host, file_name="server", dns=(host,))
        self.alice = self.root.issue("pyg-alice", file_name="alice")
        self.mallory = self.root.issue("pyg-mallory", file_name="mallory")
        self.expired = self.root.issue("pyg-alice", file_name="expired", expired=True)
        self.stranger = self.stranger_root.issue("pyg-alice", file_name="stranger")
        self.ssl_dir = openssl_dir()

    def brick_files(self) -> tuple[Path, Path, Path]:
        return tuple(self.ssl_dir / f"glusterfs.{ext}" for ext in ("pem", "key", "ca"))  # type: ignore[return-value]

    def install(self, server: Identity) -> None:
        pem, key, ca = self.brick_files()
        key.write_bytes(server.key_pem)
        pem.write_bytes(server.cert_pem)
        ca.write_bytes(self.root.pem)

    def options(self, who: Identity, **more: Any) -> TlsOptions:
        return TlsOptions(
            cert=str(who.cert), key=str(who.key), ca=str(self.root.cert), **more
        )

    @contextlib.contextmanager
    def brick_presents(self, server: Identity) -> Iterator[None]:
        """The brick shows ``server`` to connections made inside the block."""
        self.install(server)
        try:
            yield
        finally:
            self.install(self.server)


@pytest.fixture(scope="module")
def pki(host: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    pki = Pki(host, tmp_path_factory.mktemp("pki"))
    saved = pki.folder / "saved"
    saved.mkdir()
    kept = [path for path in pki.brick_files() if path.exists()]
    for path in kept:
        shutil.copy2(path, saved / path.name)
    pki.install(pki.server)
    try:
        yield pki
    finally:
        for path in kept:
            shutil.copy2(saved / path.name, path)


@pytest.fixture
def image(host: str, pki: Pki) -> Iterator[str]:
    uri = f"gluster://{host}/{VOLUME}/tls-{uuid.uuid4().hex[:8]}.img"
    pygluster.create(uri, 4 * MiB, tls=pki.options(pki.alice))
    yield uri
    with contextlib.suppress(Exception):
        pygluster.remove(uri, tls=pki.options(pki.alice))


def open_tls(uri: str, tls: TlsOptions, mode: str = "r") -> pygluster.BlockDevice:
    return pygluster.open(uri, mode, tls=tls, connect_timeout=CONNECT_TIMEOUT)  # type: ignore[arg-type]


def test_pygluster_and_qemu_read_each_others_writes_over_tls(
    pki: Pki, image: str
) -> None:
    # The options as URI query keys, the way a user would paste them.
    query = f"?tls-cert={pki.alice.cert}&tls-key={pki.alice.key}&tls-ca={pki.root.cert}"
    with pygluster.open(image + query, "r+") as dev:
        dev.pwrite(b"\xa1" * MiB, 0)
        dev.flush()
    result = qemu(
        "qemu-io",
        "-f",
        "raw",
        "-c",
        "read -P 0xa1 0 1M",
        "-c",
        "write -P 0xb2 1M 1M",
        image,
    )
    assert result.returncode == 0, result.stderr
    assert "Pattern verification failed" not in result.stdout, result.stdout
    with open_tls(image, pki.options(pki.alice)) as dev:
        assert dev.pread(MiB, MiB) == b"\xb2" * MiB
        assert dev.pread(MiB, 0) == b"\xa1" * MiB


def test_default_files_are_glusterfs_pem(image: str) -> None:
    # No options: gluster's own glusterfs.pem/.key/.ca, as libgfapi uses.
    with pygluster.open(image, "r") as dev:
        assert dev.pread(4096, 0) == bytes(4096)


def test_cli_flags_reach_the_bricks(pki: Pki, image: str) -> None:
    result = run_cli(
        "--tls-cert",
        str(pki.alice.cert),
        "--tls-key",
        str(pki.alice.key),
        "--tls-ca",
        str(pki.root.cert),
        "info",
        image,
    )
    assert result.returncode == 0, result.stderr.decode()
    result = run_cli("--tls-cert", str(pki.mallory.cert), "--tls-key",
                     str(pki.mallory.key), "info", image)  # fmt: skip
    assert result.returncode == 1
    assert "auth.ssl-allow" in result.stderr.decode()


def test_no_certificate_names_the_missing_file(pki: Pki, image: str) -> None:
    missing = pki.folder / "nobody.pem"
    with pytest.raises(TlsError) as info:
        open_tls(image, TlsOptions(cert=str(missing)))
    message = str(info.value)
    assert str(missing) in message
    assert "tls-cert" in message
    assert "brick" in message


def test_certificate_not_in_ssl_allow_is_refused(pki: Pki, image: str) -> None:
    with pytest.raises(MgmtError) as info:
        open_tls(image, pki.options(pki.mallory))
    assert info.value.errno == errno.EACCES
    message = str(info.value)
    assert "auth.ssl-allow" in message
    assert "'pyg-mallory'" in message
    assert VOLUME in message  # the brick path


def test_address_refused_by_auth_reject(pki: Pki, image: str) -> None:
    # With TLS, a certificate on auth.ssl-allow is accepted by auth/login, and
    # auth/addr only refuses an address auth.reject names: an address
    # missing from auth.allow is "don't care" there (addr.c gf_auth,
    # authenticate.c: one ACCEPT and no REJECT admits).
    gluster("volume", "set", VOLUME, "auth.reject", "127.0.0.1")
    try:
        with pytest.raises(MgmtError) as info:
            open_tls(image, pki.options(pki.alice))
        assert info.value.errno == errno.EACCES
        message = str(info.value)
        assert "auth.reject must not name our address" in message
        assert VOLUME in message
    finally:
        gluster("volume", "reset", VOLUME, "auth.reject")
    # The brick takes the reset at its reconfigure: wait for it.
    for _ in range(50):
        try:
            with open_tls(image, pki.options(pki.alice)):
                break
        except MgmtError:
            time.sleep(0.2)
    else:
        pytest.fail("the auth.reject reset did not reach the brick")


def test_plain_text_client_against_tls_brick_fails_fast(pki: Pki, image: str) -> None:
    with pytest.raises(TlsError) as info:
        open_tls(image, TlsOptions(io="off"))
    message = str(info.value)
    assert "requires TLS" in message
    assert "tls=on" in message
    assert VOLUME in message


def test_tls_client_against_plain_brick_fails_fast(host: str, pki: Pki) -> None:
    uri = f"gluster://{host}/pyg_single/tls-probe-{uuid.uuid4().hex[:8]}.img"
    with pytest.raises(TlsError) as info:
        open_tls(uri, pki.options(pki.alice, io="on"))
    message = str(info.value)
    assert "does not use TLS here" in message
    assert "pyg_single" in message


def test_tls_client_against_plain_glusterd_fails_fast(pki: Pki, image: str) -> None:
    with pytest.raises(TlsError) as info:
        open_tls(image, pki.options(pki.alice, mgmt="on"))
    message = str(info.value)
    assert ":24007" in message
    assert "does not use TLS here" in message


def test_expired_certificate_is_refused(pki: Pki, image: str) -> None:
    # Ours: refused before connecting (the brick would refuse it, but its
    # TLS 1.3 alert can be lost to the reset that follows).
    with pytest.raises(TlsError) as info:
        open_tls(image, pki.options(pki.expired))
    message = str(info.value)
    assert f"our certificate {pki.expired.cert}" in message
    assert "expired on" in message
    assert VOLUME in message
    # The brick's: our verification refuses it.
    stale = pki.root.issue(pki.host, file_name="stale", dns=(pki.host,), expired=True)
    with pki.brick_presents(stale), pytest.raises(TlsError) as info:
        open_tls(image, pki.options(pki.alice))
    assert "certificate has expired" in str(info.value)


def test_certificate_of_unknown_ca_is_refused(pki: Pki, image: str) -> None:
    with pytest.raises(TlsError) as info:
        open_tls(image, pki.options(pki.stranger))
    message = str(info.value)
    # The brick's alert when it reaches us, our account of the reset if not.
    assert "refused our certificate" in message
    assert "glusterfs.ca" in message
    assert VOLUME in message


def test_brick_certificate_of_unknown_ca_is_refused(pki: Pki, image: str) -> None:
    tls = TlsOptions(
        cert=str(pki.alice.cert), key=str(pki.alice.key), ca=str(pki.stranger_root.cert)
    )
    with pytest.raises(TlsError) as info:
        open_tls(image, tls)
    message = str(info.value)
    assert "is not trusted" in message
    assert str(pki.stranger_root.cert) in message


def test_brick_certificate_for_another_name_is_refused(pki: Pki, image: str) -> None:
    elsewhere = pki.root.issue(pki.host, file_name="elsewhere", dns=("pyg-elsewhere",))
    with pki.brick_presents(elsewhere):
        with pytest.raises(TlsError) as info:
            open_tls(image, pki.options(pki.alice))
        assert "tls-verify-name=off" in str(info.value)
        # As gluster's own clients do: any name the CA signed.
        with open_tls(image, pki.options(pki.alice, verify_name=False)) as dev:
            assert dev.pread(16, 0) == bytes(16)


def test_certificate_depth_is_enforced(pki: Pki, image: str) -> None:
    chained = pki.intermediate.issue(pki.host, file_name="chained", dns=(pki.host,))
    with pki.brick_presents(chained):
        with pytest.raises(TlsError) as info:
            open_tls(image, pki.options(pki.alice, depth=0))
        assert "intermediate" in str(info.value)
        assert "tls-depth" in str(info.value)
        # The default depth (gluster's 1) allows one intermediate CA.
        with open_tls(image, pki.options(pki.alice)) as dev:
            assert dev.pread(16, 0) == bytes(16)


@pytest.fixture(scope="module")
def secure_glusterd(host: str, pki: Pki) -> Iterator[PrivateGlusterd]:
    """A glusterd with /var/lib/glusterd/secure-access, and a volume on it."""
    private = PrivateGlusterd(
        host, BRICK_ROOT / f"private-{uuid.uuid4().hex[:8]}", secure_access=True
    )
    private.start()
    try:
        private.create_volume("pyg_secure")
        yield private
    finally:
        private.stop()


def test_management_tls_with_secure_access(
    host: str, secure_glusterd: PrivateGlusterd
) -> None:
    uri = f"gluster://{host}/pyg_secure/mgmt.img"
    # pygluster decides as libgfapi does: secure-access exists, so TLS to
    # glusterd (GETSPEC, PORTBYBRICK) with gluster's default files.
    made = secure_glusterd.cli("create", uri, "4M")
    assert made.returncode == 0, made.stderr
    wrote = secure_glusterd.cli("io", "-c", "write -P 0x5c 0 1M", uri)
    assert wrote.returncode == 0, wrote.stderr
    # libgfapi, in the same namespaces, reads it back.
    read = secure_glusterd.run(
        "qemu-io", "-f", "raw", "-c", "read -P 0x5c 0 1M", uri, timeout=120
    )
    assert read.returncode == 0, read.stderr
    assert "Pattern verification failed" not in read.stdout, read.stdout


def test_plain_text_client_against_secure_glusterd_fails_fast(
    host: str, secure_glusterd: PrivateGlusterd
) -> None:
    uri = f"gluster://{host}/pyg_secure/mgmt.img"
    result = secure_glusterd.cli(
        "--connect-timeout", str(CONNECT_TIMEOUT), "--tls-mgmt", "off", "info", uri
    )
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()[-1]
    assert "glusterd at" in message
    assert "requires TLS" in message
    assert "tls-mgmt=on" in message


def test_unix_socket_to_secure_glusterd_stays_plain(
    secure_glusterd: PrivateGlusterd,
) -> None:
    # glusterd never speaks TLS on its unix socket (socket.c, AF_UNIX).
    uri = "gluster+unix:///pyg_secure/mgmt.img?socket=/run/glusterd.socket"
    result = secure_glusterd.cli("info", uri)
    assert result.returncode == 0, result.stderr


def doctor(run: Any, uri: str, *flags: str) -> dict[str, dict[str, Any]]:
    """``pygluster doctor --json`` through ``run`` (run_cli or a namespace's
    cli): the checks by name."""
    result = run(*flags, "doctor", "--json", uri)
    report = json.loads(result.stdout)
    return {check["name"]: check for check in report["checks"]}


def failed(checks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: c for name, c in checks.items() if c["status"] == "fail"}


def tls_flags(pki: Pki, who: Identity) -> tuple[str, ...]:
    return (
        "--tls-cert", str(who.cert), "--tls-key", str(who.key),
        "--tls-ca", str(pki.root.cert),
    )  # fmt: skip


def test_doctor_diagnoses_each_refusal(host: str, pki: Pki, image: str) -> None:
    brick = f"{host}:{BRICK_ROOT / VOLUME / 'b1'}"
    checks = doctor(run_cli, image, *tls_flags(pki, pki.alice))
    assert not failed(checks), failed(checks)
    assert "TLSv1" in checks[f"TLS brick {brick}"]["detail"]

    cases = [
        (("--tls-cert", str(pki.folder / "nobody.pem")), f"TLS brick {brick}",
         "no file"),
        (tls_flags(pki, pki.expired), f"TLS brick {brick}", "expired on"),
        (tls_flags(pki, pki.mallory), f"SETVOLUME {brick}", "'pyg-mallory'"),
        (tls_flags(pki, pki.stranger), f"DUMP brick {brick}",
         "refused our certificate"),
        (("--tls", "off"), f"DUMP brick {brick}", "requires TLS"),
    ]  # fmt: skip
    for flags, name, words in cases:
        bad = failed(doctor(run_cli, image, *flags))
        assert list(bad) == [name], (flags, bad)
        assert words in bad[name]["detail"] + (bad[name]["fix"] or ""), (flags, bad)

    plain = f"gluster://{host}/pyg_single"
    bad = failed(doctor(run_cli, plain, "--tls", "on", *tls_flags(pki, pki.alice)))
    assert len(bad) == 1, bad
    [check] = bad.values()
    assert check["name"].startswith("TLS brick")
    assert "does not use TLS here" in check["detail"]


def test_doctor_on_secure_glusterd(host: str, secure_glusterd: PrivateGlusterd) -> None:
    uri = f"gluster://{host}/pyg_secure"
    checks = doctor(secure_glusterd.cli, uri)
    assert not failed(checks), failed(checks)
    assert "TLSv1" in checks[f"TLS glusterd {host}:24007"]["detail"]
    bad = failed(doctor(secure_glusterd.cli, uri, "--tls-mgmt", "off"))
    assert list(bad) == [f"DUMP glusterd {host}:24007"], bad
    assert "glusterd requires TLS" in bad[f"DUMP glusterd {host}:24007"]["fix"]


def test_many_large_requests_in_flight_over_tls(pki: Pki, image: str) -> None:
    # 1 MiB WRITEs and READs, 8 at a time: the TLS socket fills (SSL_write
    # retried whole after SSLWantWriteError) and replies span many records.
    data = os.urandom(4 * MiB)
    with pygluster.open(
        image, "r+", tls=pki.options(pki.alice), chunk_size=MiB, max_in_flight=8
    ) as dev:
        for _ in range(4):
            dev.pwrite(data, 0)
            assert dev.pread(len(data), 0) == data


def test_revoked_brick_certificate_is_refused_with_a_crl(pki: Pki, image: str) -> None:
    revoked = pki.root.issue(pki.host, file_name="revoked", dns=(pki.host,))
    crl = pki.root.revocation_list([revoked], pki.folder / "crl")
    with pki.brick_presents(revoked):
        with pytest.raises(TlsError) as info:
            open_tls(image, pki.options(pki.alice, crl=str(crl)))
        assert "certificate revoked" in str(info.value)
        # Without the CRL the same certificate is good.
        with open_tls(image, pki.options(pki.alice)) as dev:
            assert dev.pread(16, 0) == bytes(16)
    # The CRL does not revoke the brick's usual certificate.
    with open_tls(image, pki.options(pki.alice, crl=str(crl))) as dev:
        assert dev.pread(16, 0) == bytes(16)


def test_volume_certificate_depth_reaches_the_client(pki: Pki, image: str) -> None:
    # ssl.certificate-depth lands in the client volfile as
    # transport.socket.ssl-cert-depth; we hold the brick's chain to it.
    chained = pki.intermediate.issue(pki.host, file_name="chained2", dns=(pki.host,))
    gluster("volume", "set", VOLUME, "ssl.certificate-depth", "0")
    try:
        with pki.brick_presents(chained):
            with pytest.raises(TlsError) as info:
                open_tls(image, pki.options(pki.alice))
            assert "allows 0" in str(info.value)
            # Ours wins over the volume's.
            with open_tls(image, pki.options(pki.alice, depth=1)) as dev:
                assert dev.pread(16, 0) == bytes(16)
    finally:
        gluster("volume", "reset", VOLUME, "ssl.certificate-depth")


def test_volume_cipher_list_reaches_the_client(pki: Pki, image: str) -> None:
    # ssl.cipher-list lands in the client volfile as
    # transport.socket.ssl-cipher-list. TLS 1.3 suites are outside its
    # reach (on both sides), so a list OpenSSL does not know is what shows
    # that ours came from the volume.
    gluster("volume", "set", VOLUME, "ssl.cipher-list", "PYG-NO-SUCH-CIPHER")
    try:
        with pytest.raises(TlsError) as info:
            open_tls(image, pki.options(pki.alice))
        assert "'PYG-NO-SUCH-CIPHER'" in str(info.value)
        assert "ssl.cipher-list" in str(info.value)
        # Ours wins over the volume's.
        with open_tls(image, pki.options(pki.alice, ciphers="HIGH")):
            pass
    finally:
        gluster("volume", "reset", VOLUME, "ssl.cipher-list")
