"""RPC program and procedure descriptors, and gluster's program numbers.

A :class:`Procedure` bundles everything the sans-IO connection needs to send a
call and decode its reply: program number and version, procedure number, the
argument and result codecs, and whether raw payload bytes follow the XDR part
(WRITE's request, READ's reply; gluster-protocol.md §7).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Generic, TypeVar

from pygluster.rpc import xdr

__all__ = ["Procedure", "Program", "ProgramNumber", "procedure"]

A = TypeVar("A")
R = TypeVar("R")


class ProgramNumber(enum.IntEnum):
    """Gluster RPC program numbers (protocol-common.h, xdr-common.h)."""

    GLUSTER_DUMP = 123451501  # GLUSTER_DUMP_PROGRAM, v1
    GLUSTER_HNDSK = 14398633  # GLUSTER_HNDSK_PROGRAM, v2
    GLUSTER_PMAP = 34123456  # GLUSTER_PMAP_PROGRAM, v1
    GLUSTER_CBK = 52743234  # GLUSTER_CBK_PROGRAM, v1 (server -> client)
    GLUSTER_FOP = 1298437  # GLUSTER_FOP_PROGRAM, v400 (and legacy v330)
    GLUSTERD_PEER = 1238437
    GLUSTER_CLI = 1238463
    GLUSTERD_MGMT = 1238433
    GLUSTERD_MGMT_HNDSK = 1239873
    GLUSTERD_BRICK = 4867634


@dataclass(frozen=True, slots=True)
class Program:
    """An RPC program at one version, e.g. ``GlusterFS Handshake`` 14398633 v2."""

    name: str
    number: int
    version: int

    def __str__(self) -> str:
        return f"{self.name} ({self.number} v{self.version})"


@dataclass(frozen=True, slots=True)
class Procedure(Generic[A, R]):
    """One procedure of a program, with its argument and result codecs.

    Attributes:
        program: the program (number and version) it belongs to.
        number: the procedure number.
        name: upper-case name used in logs and errors (``"GETSPEC"``).
        args: codec of the call arguments.
        result: codec of the reply results.
        call_payload: raw bytes follow the arguments in the call (WRITE).
        reply_payload: raw bytes follow the results in the reply (READ).
    """

    program: Program
    number: int
    name: str
    args: xdr.Codec[A]
    result: xdr.Codec[R]
    call_payload: bool = False
    reply_payload: bool = False

    def __str__(self) -> str:
        return f"{self.program.name} {self.name}"


def procedure(
    program: Program,
    number: int,
    name: str,
    args: type[A] | xdr.Codec[A],
    result: type[R] | xdr.Codec[R],
    *,
    call_payload: bool = False,
    reply_payload: bool = False,
) -> Procedure[A, R]:
    """Build a Procedure from struct classes or codecs (a declaration helper)."""
    return Procedure(
        program,
        number,
        name,
        xdr.as_codec(args),
        xdr.as_codec(result),
        call_payload=call_payload,
        reply_payload=reply_payload,
    )
