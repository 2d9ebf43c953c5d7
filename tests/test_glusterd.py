"""glusterd/handshake declarations vs the wire vectors of protocol.md §13."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pygluster.errors import XdrError
from pygluster.rpc import glusterd, xdr
from pygluster.rpc.connection import Reply, RpcConnection
from pygluster.rpc.sunrpc import Credentials
from tests.helpers import hexwords
from tests.strategies import old_dict_values

# Credentials of the captured gfapi mgmt connection: pid 0, uid 0, gid 0,
# no groups, lk_owner 00000000.
CAPTURE_CREDS = Credentials(pid=0, uid=0, gid=0, groups=(), lk_owner=b"\0" * 4)


def call_bytes(xid: int, procedure, args) -> bytes:
    conn = RpcConnection(first_xid=xid)
    _, buffers = conn.send_call(procedure, args, cred=CAPTURE_CREDS.auth_v2())
    return b"".join(bytes(b) for b in buffers)


def test_dump_call_matches_capture() -> None:
    wire = call_bytes(2, glusterd.DUMP, glusterd.GfDumpReq(gfs_id=0xCAED))
    assert wire == hexwords(
        "80000048 00000002 00000000 00000002 075bb86d 00000001 00000001 0005f397"
        " 00000018 00000000 00000000 00000000 00000000 00000004 00000000 00000000"
        " 00000000 00000000 0000caed"
    )


def test_ping_call_matches_capture() -> None:
    assert call_bytes(3, glusterd.PING, None) == hexwords(
        "80000040 00000003 00000000 00000002 075bb86d 00000001 00000002 0005f397"
        " 00000018 00000000 00000000 00000000 00000000 00000004 00000000 00000000"
        " 00000000"
    )


def test_getspec_call_matches_capture() -> None:
    args = glusterd.GfGetspecReq(
        flags=1, key="pc_core", xdata=glusterd.OP_VERSION_XDATA
    )
    # The capture's xid was 2 and its program header bytes differ only in the
    # xid word; compare from the credential on and the length word.
    wire = call_bytes(2, glusterd.GETSPEC, args)
    expected = hexwords(
        "80000090 00000002 00000000 00000002 00dbb4a9 00000002 00000002 0005f397"
        " 00000018 00000000 00000000 00000000 00000000 00000004 00000000 00000000"
        " 00000000 00000001 00000007 70635f63 6f726500 0000003b 00000002 0000000e"
        " 00000007 6d61782d 6f702d76 65727369 6f6e0031 30303030 30000000 000e0000"
        " 00026d69 6e2d6f70 2d766572 73696f6e 00310000"
    )
    assert wire == expected


def test_ping_and_portbybrick_replies_decode() -> None:
    conn = RpcConnection(first_xid=3)
    conn.send_call(glusterd.PING, None, cred=CAPTURE_CREDS.auth_v2())
    conn.send_call(
        glusterd.PORTBYBRICK,
        glusterd.PmapPortByBrickReq(brick="/b"),
        cred=CAPTURE_CREDS.auth_v2(),
    )
    conn.receive_data(
        hexwords("80000024 00000003 00000001 00000000 00000000 00000000 00000000")
        + hexwords("00000000 00000000 00000000")
        + hexwords(
            "80000028 00000004 00000001 00000000 00000000 00000000 00000000"
            " 00000000 00000000 00000000 0000e3a4"
        )
    )
    ping = conn.next_event()
    port = conn.next_event()
    assert isinstance(ping, Reply)
    assert ping.result == glusterd.GfCommonRsp(op_ret=0, op_errno=0, xdata={})
    assert isinstance(port, Reply)
    assert port.result is not None
    assert port.result.port == 58276


def test_old_dict_layout() -> None:
    blob = glusterd.OldDict.serialize(glusterd.OP_VERSION_XDATA)
    assert blob == hexwords(
        "00000002 0000000e 00000007 6d61782d 6f702d76 65727369 6f6e0031 30303030"
        " 30000000 000e0000 00026d69 6e2d6f70 2d766572 73696f6e 003100"
    )
    assert glusterd.OldDict.unserialize(blob) == glusterd.OP_VERSION_XDATA
    assert glusterd.dict_str(glusterd.OP_VERSION_XDATA, "max-op-version") == "100000"
    assert glusterd.dict_str({}, "x") is None


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"\0\0\0", "count word"),
        (b"\xff\xff\xff\xff", "negative"),
        (b"\0\0\0\x01\0\0\0\x01", "header runs past"),
        (b"\0\0\0\x01\0\0\0\x01\0\0\0\x05a\0", "runs past the end"),
        (b"\0\0\0\x01\0\0\0\x01\0\0\0\x00ab", "lacks its NUL"),
        (b"\0\0\0\x00x", "after the last pair"),
    ],
)
def test_old_dict_garbage(blob: bytes, message: str) -> None:
    with pytest.raises(XdrError, match=message):
        glusterd.OldDict.unserialize(blob)


def test_old_dict_rejects_nul_in_key() -> None:
    with pytest.raises(XdrError, match="NUL"):
        glusterd.OldDict.serialize({"a\0b": b""})


class TestOldDictProperties:
    @given(values=old_dict_values())
    def test_round_trip(self, values: dict[str, bytes]) -> None:
        blob = glusterd.OldDict.serialize(values)
        assert glusterd.OldDict.unserialize(blob) == values
        assert (
            xdr.decode(glusterd.OLD_DICT, xdr.encode(values, glusterd.OLD_DICT))
            == values
        )

    @given(blob=st.binary(max_size=200))
    def test_garbage_is_value_or_xdr_error(self, blob: bytes) -> None:
        try:
            result = glusterd.OldDict.unserialize(blob)
        except XdrError:
            return
        assert isinstance(result, dict)
