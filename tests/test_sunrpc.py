"""Credentials: AUTH_GLUSTERFS v2/v3 bodies, defaults, and the 400-byte budget."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygluster.errors import LocalProtocolError, XdrError
from pygluster.rpc import xdr
from pygluster.rpc.sunrpc import (
    PLAIN_REPLY_HEADER_SIZE,
    AcceptStat,
    AuthFlavor,
    AuthGlusterfsParamsV2,
    AuthGlusterfsParamsV3,
    Credentials,
    MsgType,
    OpaqueAuth,
    ReplyStat,
    RpcMsg,
    call_message,
    decode_plain_reply_header,
    encode_call_header,
)
from tests.helpers import hexwords
from tests.strategies import values_for


def test_defaults_are_the_callers_real_identity() -> None:
    creds = Credentials()
    assert (creds.pid, creds.uid, creds.gid) == (os.getpid(), os.getuid(), os.getgid())
    assert creds.groups == tuple(os.getgroups())
    # gfapi's default lock owner: the pid, 4 bytes little-endian (§2.3).
    assert creds.lk_owner == os.getpid().to_bytes(4, "little")


def test_v2_body_matches_capture() -> None:
    auth = Credentials(pid=0, uid=0, gid=0, groups=(), lk_owner=b"\0" * 4).auth_v2()
    assert auth.flavor == AuthFlavor.GLUSTERFS_V2
    assert auth.body == hexwords(
        "00000000 00000000 00000000 00000000 00000004 00000000"
    )


def test_v3_body_carries_flags_and_clock() -> None:
    creds = Credentials(
        pid=0x1C3D, uid=0, gid=0, groups=(), lk_owner=bytes.fromhex("3d1c0000")
    )
    auth = creds.auth_v3(0x1F, 0x6B077AE9 * 10**9 + 0x0C5F2E78)
    assert auth.flavor == AuthFlavor.GLUSTERFS_V3
    assert auth.body == hexwords(
        "00001c3d 00000000 00000000 0000001f 0c5f2e78 00000000 6b077ae9 00000000"
        " 00000004 3d1c0000"
    )


def test_groups_are_truncated_to_fit_400_bytes() -> None:
    creds = Credentials(
        pid=1, uid=2, gid=3, groups=tuple(range(200)), lk_owner=b"\1" * 8
    )
    v2 = xdr.decode(AuthGlusterfsParamsV2, creds.auth_v2().body)
    v3 = xdr.decode(AuthGlusterfsParamsV3, creds.auth_v3().body)
    # xdr-common.h: ngroups + lk_owner words <= 95 (v2) / 91 (v3).
    assert len(v2.groups) == 95 - 2
    assert len(v3.groups) == 91 - 2
    assert len(creds.auth_v2().body) <= 400
    assert len(creds.auth_v3().body) <= 400


def test_oversized_lock_owner_and_negative_pid_are_refused() -> None:
    with pytest.raises(LocalProtocolError, match="lk_owner"):
        Credentials(lk_owner=b"x" * 400).auth_v2()
    with pytest.raises(LocalProtocolError, match="negative"):
        Credentials(pid=-13)


class TestHeaderFastPaths:
    """The precompiled RPC header paths equal the declarative encoding."""

    @given(
        xid=st.integers(0, 2**32 - 1),
        prog=st.integers(0, 2**32 - 1),
        vers=st.integers(0, 2**32 - 1),
        proc=st.integers(0, 2**32 - 1),
        flavor=st.integers(0, 2**32 - 1),
        body=st.binary(max_size=400),
    )
    def test_call_header(self, xid, prog, vers, proc, flavor, body) -> None:
        cred = OpaqueAuth(flavor=flavor, body=body)
        expected = xdr.encode(call_message(xid, prog, vers, proc, cred))
        assert encode_call_header(xid, prog, vers, proc, cred) == expected

    @given(message=values_for(RpcMsg), tail=st.binary(max_size=16))
    def test_plain_reply_header(self, message, tail) -> None:
        wire = xdr.encode(message) + tail
        xid = decode_plain_reply_header(memoryview(wire))
        decoded, end = xdr.decode_prefix(RpcMsg, wire)
        plain = (
            decoded.body.discriminant == MsgType.REPLY
            and decoded.body.value.discriminant == ReplyStat.MSG_ACCEPTED
            and decoded.body.value.value.reply_data.discriminant == AcceptStat.SUCCESS
            and decoded.body.value.value.verf.body == b""
        )
        if plain:
            assert xid == decoded.xid
            assert end == PLAIN_REPLY_HEADER_SIZE
        else:
            assert xid is None

    def test_oversized_credential_is_refused(self) -> None:
        with pytest.raises(XdrError):
            encode_call_header(1, 2, 3, 4, OpaqueAuth(flavor=1, body=b"x" * 401))


@given(
    pid=st.integers(0, 2**31 - 1),
    uid=st.integers(0, 2**32 - 1),
    groups=st.lists(st.integers(0, 2**32 - 1), max_size=120).map(tuple),
    lk_owner=st.binary(min_size=1, max_size=32),
    flags=st.integers(0, 2**32 - 1),
    ctime_ns=st.integers(0, (2**64 - 1) * 1_000_000_000),
)
def test_v3_credential_fast_path_equals_the_declaration(
    pid: int,
    uid: int,
    groups: tuple[int, ...],
    lk_owner: bytes,
    flags: int,
    ctime_ns: int,
) -> None:
    """auth_v3 patches flags and ctime into a cached body: same bytes as
    encoding AuthGlusterfsParamsV3 field by field."""
    creds = Credentials(pid=pid, uid=uid, gid=uid, groups=groups, lk_owner=lk_owner)
    seconds, nanoseconds = divmod(ctime_ns, 1_000_000_000)
    expected = xdr.encode(
        AuthGlusterfsParamsV3(
            pid=pid,
            uid=uid,
            gid=uid,
            flags=flags,
            ctime_nsec=nanoseconds,
            ctime_sec=seconds,
            groups=groups[: 100 - 9 - -(-len(lk_owner) // 4)],
            lk_owner=lk_owner,
        ),
        xdr.unfused(AuthGlusterfsParamsV3),
    )
    assert creds.auth_v3(flags, ctime_ns).body == expected
    assert creds.auth_v3().body == creds.auth_v3(0, 0).body
