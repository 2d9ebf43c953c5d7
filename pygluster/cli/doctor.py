"""``pygluster doctor URI``: check the way to an image, step by step.

The command line side of :mod:`pygluster.tools.doctor`: one line per check (✓ ok,
✗ failed, ! warning, - skipped) with the fix under each failure, or with
``--json`` one object ``{"uri", "ok", "checks": [...]}``. Exit status 0 when
nothing failed (warnings allowed), 1 when something did, 2 for a bad URI.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from pygluster.cli.options import add_command as add_parser
from pygluster.cli.options import parse_uri

if TYPE_CHECKING:
    import argparse

__all__ = ["add_command"]

_DOCTOR_HELP = """\
Walk the connection to an image the way the client does, one step at a time,
and say what works, what fails and how to fix it: name resolution (A and
AAAA), the connection to each glusterd (tcp or unix), DUMP, GETSPEC, the
volume's id and layout, then per brick portmap, TCP connect, DUMP, SETVOLUME
(where auth.allow refuses a client) and a PING round trip, and last a LOOKUP
of the image through the same translators `pygluster info` uses.

Everything goes over the wire protocol, so it works from any client machine.
Exit status: 0 when no check failed (warnings allowed), 1 when one did, 2 for
a URI that does not parse.
"""
_DOCTOR_EXAMPLES = """\
examples:
  pygluster doctor gluster://server/vol/vm.img
  pygluster doctor gluster://server/vol
  pygluster doctor --json gluster://server/vol/vm.img | jq '.checks[]'
"""


def add_command(commands: Any) -> None:
    """Add ``doctor`` to the ``pygluster`` subcommands."""
    parser = add_parser(
        commands,
        "doctor",
        "check the way to an image step by step and say how to fix it",
        _DOCTOR_HELP,
        _DOCTOR_EXAMPLES,
        takes_uri=False,
        uri="gluster URI of an image, or of a volume",
    )
    parser.add_argument(
        "--json", action="store_true", help='print one JSON object {"uri", "ok", ...}'
    )
    parser.set_defaults(run=_run_doctor)


def _can_print(text: str) -> bool:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


async def _run_doctor(args: argparse.Namespace) -> int:
    uri = parse_uri(args, args.uri, require_image=False)
    from pygluster.tools.doctor import diagnose  # only this command needs it

    library_log = logging.getLogger("pygluster")
    saved_level = library_log.level
    if not args.verbose:
        # Every problem becomes a check with its explanation; the library's
        # own warnings (a brick reconnecting, ...) would only repeat them.
        library_log.setLevel(logging.ERROR)
    try:
        report = await diagnose(
            uri, connect_timeout=args.connect_timeout, call_timeout=args.timeout
        )
    finally:
        library_log.setLevel(saved_level)
    if args.json:
        print(report.to_json())
    else:
        text = report.format()
        if not _can_print(text):
            text = report.format(ascii_only=True)
        sys.stdout.write(text)
    sys.stdout.flush()
    return 0 if report.ok else 1
