"""Seeing the wire: trace sinks, pcap in and out, and the capture decoder.

:mod:`~pygluster.capture.trace` renders the events of :mod:`pygluster.events`
as text, JSON lines and pcap; :mod:`~pygluster.capture.pcap` reads captures,
:mod:`~pygluster.capture.pcapwriter` writes them, and
:mod:`~pygluster.capture.decode` turns a capture back into RPC messages
(``pygluster decode``); :mod:`~pygluster.capture.render` is how both show a
decoded value. All of it is sans-IO (no trio), and the I/O path never imports
it.
"""
