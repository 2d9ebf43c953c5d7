"""pygluster.tls: options, the cluster's rules for when TLS is used, the
secure-access marker, and how failures are put into words. Offline: the real
handshakes are in tests/integration/test_tls_live.py."""

from __future__ import annotations

import contextlib
import os
import ssl
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygluster.errors import TlsError, TlsOptionError
from pygluster.tls import (
    DEFAULT_CERT_DEPTH,
    DEFAULT_CIPHER_LIST,
    TlsConfig,
    TlsOptions,
    _read_secure_access,
    default_cert_dirs,
    describe_failure,
)
from tests.strategies import tls_options
from tests.tlsca import Authority

if TYPE_CHECKING:
    from pathlib import Path

SSL_ON = {"transport.socket.ssl-enabled": "on"}


class TestOptions:
    @given(tls_options)
    def test_keys_roundtrip(self, tls: TlsOptions) -> None:
        assert TlsOptions.from_keys(tls.to_keys()) == tls

    @given(st.dictionaries(st.text(max_size=12), st.text(max_size=12), max_size=4))
    def test_any_keys_give_options_or_our_error(self, keys: dict[str, str]) -> None:
        with contextlib.suppress(TlsOptionError):
            TlsOptions.from_keys(keys)

    @given(st.sampled_from(sorted(TlsOptions.KEYS)), st.text(max_size=12))
    def test_any_value_gives_options_or_our_error(self, key: str, value: str) -> None:
        try:
            TlsOptions.from_keys({key: value})
        except TlsOptionError as exc:
            error: TlsOptionError | None = exc
        else:
            error = None
        assert error is None or key in str(error)

    @pytest.mark.parametrize(
        ("keys", "words"),
        [
            ({"tls": "maybe"}, "auto, on or off"),
            ({"tls-depth": "-1"}, "0 to 100"),
            ({"tls-depth": "x"}, "whole number"),
            ({"tls-verify-name": "perhaps"}, "on or off"),
            ({"tls-cert": ""}, "is empty"),
            ({"tls-bogus": "1"}, "unknown"),
        ],
    )
    def test_bad_values_are_named(self, keys: dict[str, str], words: str) -> None:
        with pytest.raises(TlsOptionError, match=words):
            TlsOptions.from_keys(keys)

    def test_merged_takes_the_other_sides_settings(self) -> None:
        base = TlsOptions(cert="/a.pem", depth=3)
        top = TlsOptions(cert="/b.pem", io="on")
        assert base.merged(top) == TlsOptions(cert="/b.pem", depth=3, io="on")
        assert base.merged(None) is base


class TestWhenTlsIsUsed:
    def test_brick_follows_the_volfile(self) -> None:
        assert TlsOptions().for_brick({}, "b") is None
        assert (
            TlsOptions().for_brick({"transport.socket.ssl-enabled": "off"}, "b") is None
        )
        config = TlsOptions().for_brick(SSL_ON, "b")
        assert config is not None
        assert config.depth == DEFAULT_CERT_DEPTH
        assert config.ciphers == DEFAULT_CIPHER_LIST
        assert config.cert.endswith("/glusterfs.pem")
        assert os.path.dirname(config.cert) in default_cert_dirs()
        assert "client.ssl" in config.reason

    def test_brick_forced_either_way(self) -> None:
        assert TlsOptions(io="off").for_brick(SSL_ON, "b") is None
        config = TlsOptions(io="on").for_brick({}, "b")
        assert config is not None
        assert config.reason == "tls=on"

    def test_volfile_files_and_limits_then_ours(self) -> None:
        volfile = {
            **SSL_ON,
            "transport.socket.ssl-own-cert": "/v/own.pem",
            "transport.socket.ssl-private-key": "/v/own.key",
            "transport.socket.ssl-ca-list": "/v/ca.pem",
            "transport.socket.ssl-crl-path": "NULL",
            "transport.socket.ssl-cert-depth": "4",
            "transport.socket.ssl-cipher-list": "HIGH",
        }
        config = TlsOptions().for_brick(volfile, "b")
        assert config is not None
        assert (config.cert, config.key, config.ca) == (
            "/v/own.pem",
            "/v/own.key",
            "/v/ca.pem",
        )
        assert config.crl is None  # socket.c: "NULL" means no CRLs
        assert (config.depth, config.ciphers) == (4, "HIGH")
        mine = TlsOptions(cert="/m.pem", depth=0, ciphers="AES256").for_brick(
            volfile, "b"
        )
        assert mine is not None
        assert (mine.cert, mine.key, mine.depth, mine.ciphers) == (
            "/m.pem",
            "/v/own.key",
            0,
            "AES256",
        )

    def test_bad_volfile_depth_names_the_brick(self) -> None:
        volfile = {**SSL_ON, "transport.socket.ssl-cert-depth": "deep"}
        with pytest.raises(TlsOptionError, match="vm:/b"):
            TlsOptions().for_brick(volfile, "vm:/b")

    def test_glusterd_follows_secure_access(self, tmp_path: Path) -> None:
        marker = tmp_path / "secure-access"
        tls = TlsOptions(secure_access_file=str(marker))
        assert tls.for_glusterd(unix=False) is None
        marker.write_text("")
        config = tls.for_glusterd(unix=False)
        assert config is not None
        assert config.depth == DEFAULT_CERT_DEPTH
        assert str(marker) in config.reason
        marker.write_text("# set by hand\noption transport.socket.ssl-cert-depth 3\n")
        config = tls.for_glusterd(unix=False)
        assert config is not None
        assert config.depth == 3
        # glusterd never speaks TLS on its unix socket.
        assert tls.for_glusterd(unix=True) is None
        assert TlsOptions(mgmt="on").for_glusterd(unix=True) is None

    def test_glusterd_forced_either_way(self, tmp_path: Path) -> None:
        marker = tmp_path / "secure-access"
        marker.write_text("")
        assert (
            TlsOptions(mgmt="off", secure_access_file=str(marker)).for_glusterd(
                unix=False
            )
            is None
        )
        absent = str(tmp_path / "absent")
        config = TlsOptions(mgmt="on", secure_access_file=absent).for_glusterd(
            unix=False
        )
        assert config is not None
        assert config.reason == "tls-mgmt=on"

    @given(st.text(max_size=200))
    def test_any_secure_access_text_gives_a_depth(self, text: str) -> None:
        import tempfile

        with tempfile.NamedTemporaryFile("w", encoding="utf-8", delete=False) as f:
            f.write(text)
        try:
            depth = _read_secure_access(f.name)
        finally:
            os.unlink(f.name)
        assert depth is not None
        assert 1 <= depth <= 100

    def test_secure_access_depth_rules(self, tmp_path: Path) -> None:
        marker = tmp_path / "m"
        # graph.c: atoi() of what follows the key, and 0 means the default.
        for text, depth in [
            ("option transport.socket.ssl-cert-depth 0\n", DEFAULT_CERT_DEPTH),
            ("option transport.socket.ssl-cert-depth 7\n", 7),
            ("  option transport.socket.ssl-cert-depth 7\n", DEFAULT_CERT_DEPTH),
        ]:
            marker.write_text(text)
            assert _read_secure_access(str(marker)) == depth
        assert _read_secure_access(str(tmp_path / "absent")) is None


def _config(tmp_path: Path, **fields: object) -> TlsConfig:
    values: dict[str, object] = {
        "cert": str(tmp_path / "c.pem"),
        "key": str(tmp_path / "c.key"),
        "ca": str(tmp_path / "ca.pem"),
        "crl": None,
        "depth": 1,
        "ciphers": DEFAULT_CIPHER_LIST,
        "verify_name": True,
        "reason": "tls=on",
    }
    values.update(fields)
    return TlsConfig(**values)  # type: ignore[arg-type]


class TestContext:
    def test_missing_files_are_named(self, tmp_path: Path) -> None:
        with pytest.raises(
            TlsError, match=r"no file .*c\.pem \(give one with tls-cert"
        ):
            _config(tmp_path).context("vm:49152")

    def test_good_files_make_a_context(self, tmp_path: Path) -> None:
        root = Authority("unit-root", tmp_path)
        me = root.issue("unit-me")
        config = _config(
            tmp_path, cert=str(me.cert), key=str(me.key), ca=str(root.cert)
        )
        ctx = config.context("vm:49152")
        assert ctx.verify_mode == ssl.CERT_REQUIRED
        assert ctx.check_hostname
        loose = _config(
            tmp_path, cert=str(me.cert), key=str(me.key), ca=str(root.cert),
            verify_name=False, crl=str(tmp_path),
        )  # fmt: skip
        ctx = loose.context("vm:49152")
        assert not ctx.check_hostname
        assert ctx.verify_flags & ssl.VERIFY_CRL_CHECK_CHAIN

    def test_expired_certificate_is_refused_before_connecting(
        self, tmp_path: Path
    ) -> None:
        root = Authority("unit-root", tmp_path)
        old = root.issue("unit-old", expired=True)
        config = _config(
            tmp_path, cert=str(old.cert), key=str(old.key), ca=str(root.cert)
        )
        with pytest.raises(TlsError, match=r"expired on .*renew it"):
            config.context("vm:49152")

    def test_mismatched_key_and_bad_ciphers(self, tmp_path: Path) -> None:
        root = Authority("unit-root", tmp_path)
        a, b = root.issue("unit-a"), root.issue("unit-b")
        config = _config(tmp_path, cert=str(a.cert), key=str(b.key), ca=str(root.cert))
        with pytest.raises(TlsError, match="cannot use certificate"):
            config.context("vm:49152")
        config = _config(
            tmp_path, cert=str(a.cert), key=str(a.key), ca=str(root.cert),
            ciphers="NO-SUCH-CIPHER",
        )  # fmt: skip
        with pytest.raises(TlsError, match="no cipher"):
            config.context("vm:49152")

    def test_depth_counts_the_cas_in_between(self, tmp_path: Path) -> None:
        config = _config(tmp_path, depth=1)
        for length in (None, 1, 2, 3):
            config.check_chain(length, "vm:1")
        with pytest.raises(TlsError, match="2 intermediate"):
            config.check_chain(4, "vm:1")


class TestDescribe:
    def _alert(self, reason: str) -> ssl.SSLError:
        exc = ssl.SSLError(1, f"[SSL: {reason}] alert")
        exc.reason = reason
        exc.library = "SSL"
        return exc

    @pytest.mark.parametrize(
        ("reason", "words"),
        [
            ("TLSV1_ALERT_UNKNOWN_CA", "not signed by a CA the server trusts"),
            ("SSLV3_ALERT_CERTIFICATE_EXPIRED", "has expired"),
            ("WRONG_VERSION_NUMBER", "does not use TLS here"),
            ("UNEXPECTED_EOF_WHILE_READING", "does not use TLS here"),
            ("SOMETHING_ELSE", "TLS with vm:1 failed"),
        ],
    )
    def test_alerts(self, reason: str, words: str) -> None:
        wrapped = RuntimeError("broken")
        wrapped.__cause__ = self._alert(reason)
        assert words in describe_failure(wrapped, "vm:1", None)

    def test_not_tls_at_all(self) -> None:
        assert describe_failure(OSError("plain"), "vm:1", None) == "plain"
