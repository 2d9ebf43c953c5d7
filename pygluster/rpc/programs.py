"""RPC program and procedure descriptors, and gluster's program numbers.

A :class:`Procedure` bundles everything the sans-IO connection needs to send a
call and decode its reply: program number and version, procedure number, the
argument and result codecs, and whether raw payload bytes follow the XDR part
(WRITE's request, READ's reply; protocol.md §7).

A :class:`Program` owns its procedures: :func:`procedure` adds each one to
its program's table as it is declared, and every program is registered by
(number, version), so a tool that meets a call on the wire (the trace sinks,
the capture decoder) looks its program and procedure up here
(:func:`find_program`, :meth:`Program.name_of`) instead of keeping tables of
its own. The declaring modules: :mod:`~pygluster.rpc.glusterd` (dump,
handshake, portmap, and glusterd's own daemons' programs, named only),
:mod:`~pygluster.rpc.callback`, :mod:`~pygluster.rpc.fops` (fop program v400)
and :mod:`~pygluster.rpc.fops_v3` (v330).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pygluster.rpc import xdr

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "Procedure",
    "Program",
    "ProgramNumber",
    "all_programs",
    "find_program",
    "procedure",
]

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
    """An RPC program at one version, e.g. ``GlusterFS Handshake`` 14398633 v2.

    Attributes:
        name: the program's name, as gluster's ``rpcsvc_program_t`` gives it.
        number: the program number.
        version: the program version.
        names: names of procedures that have no declaration here (no
            codecs): a decoder names them and shows the header only.
        header_only: nothing of this program is declared (glusterd's
            programs among its own daemons): named, never decoded.
        procedures: the declared procedures by number, filled in by
            :func:`procedure`.
    """

    name: str
    number: int
    version: int
    names: Mapping[int, str] = field(default_factory=dict, compare=False, repr=False)
    header_only: bool = field(default=False, compare=False, repr=False)
    procedures: dict[int, Procedure[Any, Any]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        key = (self.number, self.version)
        if key in _PROGRAMS:
            raise ValueError(f"program {self} is declared twice")
        _PROGRAMS[key] = self

    def __str__(self) -> str:
        return f"{self.name} ({self.number} v{self.version})"

    def name_of(self, number: int) -> str | None:
        """The name of procedure ``number``, declared or only named."""
        proc = self.procedures.get(number)
        return proc.name if proc is not None else self.names.get(number)


_PROGRAMS: dict[tuple[int, int], Program] = {}


def find_program(number: int, version: int) -> Program | None:
    """The program declared with this number and version, if any."""
    return _PROGRAMS.get((number, version))


def all_programs() -> tuple[Program, ...]:
    """Every program declared so far (import the declaring modules first)."""
    return tuple(_PROGRAMS.values())


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
    """Declare procedure ``number`` of ``program`` from struct classes or
    codecs, and add it to the program's table (each number once)."""
    if number in program.procedures:
        raise ValueError(f"{program} procedure {number} is declared twice")
    proc = Procedure(
        program,
        int(number),
        name,
        xdr.as_codec(args),
        xdr.as_codec(result),
        call_payload=call_payload,
        reply_payload=reply_payload,
    )
    program.procedures[int(number)] = proc
    return proc
