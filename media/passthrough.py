"""The only place that reaches into aiortc's and aioice's internals.

The hub forwards encoded frames and never decodes. aiortc 1.16 has no public way to get
them out of a receiver (``forward_encoded``: the decoder swap), to learn that a browser
asked one of the hub's senders for a keyframe (``on_keyframe_request``), or to gather ICE
candidates on a chosen address (``host_addresses``: aioice leaves 127.0.0.1 out); and
asyncio reads one datagram per wake-up, too few for a busy hub (``_drain_ice_sockets``);
aiortc's clock is slow for a per-packet call (``ntp_now``).
This module does those things with the smallest reach it can, checks at install time that
the internals it touches still look the way they did in aiortc 1.16 (and aioice 0.13,
CPython 3.11's asyncio), and raises ``AiortcChanged`` otherwise: tests/media/test_forward.py
fails loudly on it, and on any receiver that yields decoded frames instead of packets.
pyproject.toml pins ``aiortc>=1.16,<1.17`` for the same reason: review this module before
raising the pin.
"""

from __future__ import annotations

import asyncio
import asyncio.selector_events
import contextlib
import contextvars
import fractions
import inspect
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import aioice.ice
import aiortc
import aiortc.clock
import aiortc.rtcrtpreceiver
import av
from aiortc import RTCRtpReceiver, RTCRtpSender

SUPPORTED = "1.16."


class AiortcChanged(RuntimeError):
    """aiortc (or aioice) no longer has the internals this module relies on."""


# Addresses to gather host candidates on, for the current task and the tasks it starts.
_HOST_ADDRESSES: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "nghitruong_host_addresses", default=None
)
_installed = False
_install_lock = threading.Lock()


def is_vp8_keyframe(data: bytes) -> bool:
    """RFC 6386 9.1: bit 0 of a VP8 frame's first byte is 0 on a key frame."""
    return len(data) > 0 and data[0] & 1 == 0


class _Passthrough:
    """Stands in for a receiver's decoder queue (aiortc hands it each complete, depayloaded
    encoded frame, on the event loop) and hands the frame on at once as one ``av.Packet``
    (pts = the RTP timestamp as aiortc unwraps it, time base = 1 / the codec's clock
    rate) to the remote track's queue. ``None`` ends the track, as aiortc's decoder thread
    does. Nothing crosses a thread: with a decoder thread per track, every frame waited
    for the GIL behind the busy event loop, and a hub forwarding to a hundred receivers
    delivered its input up to a second late."""

    def __init__(self, output: asyncio.Queue[Any]) -> None:
        self._output = output

    def put(self, task: tuple[Any, Any] | None) -> None:
        if task is None:
            self._output.put_nowait(None)
            return
        codec, encoded_frame = task
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = fractions.Fraction(1, codec.clockRate)
        if codec.name.upper() == "VP8":
            packet.is_keyframe = is_vp8_keyframe(encoded_frame.data)
        self._output.put_nowait(packet)


def _check() -> tuple[Callable[..., None], Callable[..., list[str]]]:
    if not aiortc.__version__.startswith(SUPPORTED):
        raise AiortcChanged(f"media/passthrough.py was written for aiortc {SUPPORTED}x")
    worker = getattr(aiortc.rtcrtpreceiver, "decoder_worker", None)
    lookup = getattr(aioice.ice, "get_host_addresses", None)
    if worker is None or lookup is None:
        raise AiortcChanged("decoder_worker or get_host_addresses is gone")
    params = list(inspect.signature(worker).parameters)
    if params != ["loop", "input_q", "output_q", "decode_error"]:
        raise AiortcChanged(f"decoder_worker takes {params}")
    if "decoder_worker" not in inspect.getsource(RTCRtpReceiver.receive):
        raise AiortcChanged("RTCRtpReceiver.receive no longer starts decoder_worker")
    for name in ("_send_keyframe", "_handle_rtcp_packet"):
        if not callable(getattr(RTCRtpSender, name, None)):
            raise AiortcChanged(f"RTCRtpSender.{name} is gone")
    if "_send_keyframe" not in inspect.getsource(RTCRtpSender._handle_rtcp_packet):
        raise AiortcChanged("RTCRtpSender no longer calls _send_keyframe on PLI/FIR")
    transport_class = getattr(asyncio.selector_events, "_SelectorDatagramTransport", None)
    reader = getattr(transport_class, "_read_ready", None)
    if reader is None or "recvfrom(self.max_size)" not in inspect.getsource(reader):
        raise AiortcChanged("asyncio's datagram transport reads differently")
    if not callable(getattr(aiortc.clock, "current_ntp_time", None)):
        raise AiortcChanged("aiortc.clock.current_ntp_time is gone")
    if not hasattr(aioice.ice, "StunProtocol"):
        raise AiortcChanged("aioice.ice.StunProtocol is gone")
    if not callable(getattr(RTCRtpReceiver, "_send_rtcp_pli", None)):
        raise AiortcChanged("RTCRtpReceiver._send_rtcp_pli is gone")
    handler = inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    if "self.__decoder_queue.put((codec, encoded_frame))" not in handler:
        raise AiortcChanged("RTCRtpReceiver no longer queues (codec, frame) for its decoder")
    return worker, lookup


def install() -> None:
    """Wrap aiortc's decoder thread (it returns at once for a receiver that forwards) and
    aioice's host-address lookup (``host_addresses``); both do what aiortc would have
    done otherwise. Idempotent; raises ``AiortcChanged``."""
    global _installed
    with _install_lock:
        if _installed:
            return
        original_worker, original_lookup = _check()

        def worker(
            loop: asyncio.AbstractEventLoop,
            input_q: queue.Queue[Any],
            output_q: asyncio.Queue[Any],
            decode_error: threading.Event,
        ) -> None:
            if not isinstance(input_q, _Passthrough):  # see forward_encoded
                original_worker(loop, input_q, output_q, decode_error)

        def lookup(use_ipv4: bool, use_ipv6: bool) -> list[str]:
            chosen = _HOST_ADDRESSES.get()
            return original_lookup(use_ipv4, use_ipv6) if chosen is None else list(chosen)

        aiortc.rtcrtpreceiver.decoder_worker = worker
        aioice.ice.get_host_addresses = lookup
        aiortc.clock.current_ntp_time = ntp_now
        _drain_ice_sockets()
        _installed = True


NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01


def ntp_now() -> int:
    """The wall clock as a 64-bit NTP timestamp: what ``aiortc.clock.current_ntp_time``
    returns, without building two datetimes. Each sender calls it twice per packet (the
    abs-send-time header and the sender report), about a tenth of a forwarding hub's CPU
    with aiortc's version."""
    now = time.time()
    seconds = int(now)
    return ((seconds + NTP_EPOCH_OFFSET) << 32) | int((now - seconds) * (1 << 32))


DRAIN = 64  # datagrams read from one ICE socket per readiness event, at most


def _drain_ice_sockets() -> None:
    """asyncio's selector loop reads ONE datagram per readiness event. A hub sending to a
    hundred receivers runs long loop iterations, so a publisher's socket (150 datagrams a
    second) was read more slowly than it filled: its media reached the hub up to two
    seconds late, and a floor switch waited that long for the new speaker's keyframe.
    aioice's sockets (and only those) read what is waiting, up to ``DRAIN``, as libuv
    does. Transports created before ``install()`` keep asyncio's reader."""
    transport_class = asyncio.selector_events._SelectorDatagramTransport  # type: ignore[attr-defined]
    one = transport_class._read_ready

    def read_ready(self: Any) -> None:
        if not isinstance(self._protocol, aioice.ice.StunProtocol):
            one(self)
            return
        for _ in range(DRAIN):
            if self._conn_lost:
                return
            try:
                data, addr = self._sock.recvfrom(self.max_size)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._protocol.error_received(exc)
                return
            except Exception as exc:
                self._fatal_error(exc, "Fatal read error on datagram transport")
                return
            self._protocol.datagram_received(data, addr)

    transport_class._read_ready = read_ready


def forward_encoded(receiver: RTCRtpReceiver) -> None:
    """THE DECODER SWAP. Make ``receiver``'s remote track yield ``av.Packet``s (one encoded
    frame each) instead of decoded frames: its private decoder queue becomes a
    ``_Passthrough``. Call after ``setRemoteDescription`` (which creates the track) and
    before the connection comes up (which starts the decoder thread; the wrapped thread
    returns at once for such a queue). Raises ``AiortcChanged``."""
    install()
    if getattr(receiver, "_RTCRtpReceiver__decoder_thread", None) is not None:
        raise AiortcChanged("the receiver's decoder thread is already running")
    if not isinstance(getattr(receiver, "_RTCRtpReceiver__decoder_queue", None), queue.Queue):
        raise AiortcChanged("RTCRtpReceiver has no decoder queue")
    track_queue = getattr(receiver.track, "_queue", None)
    if not isinstance(track_queue, asyncio.Queue):
        raise AiortcChanged("RemoteStreamTrack has no asyncio queue")
    receiver._RTCRtpReceiver__decoder_queue = _Passthrough(track_queue)  # type: ignore[attr-defined]


def on_keyframe_request(sender: RTCRtpSender, callback: Callable[[], None]) -> None:
    """Call ``callback`` when the remote peer sends ``sender`` a PLI or FIR. aiortc only
    sets a flag its encoder reads, and a forwarding sender has no encoder."""
    install()
    sender._send_keyframe = callback  # type: ignore[method-assign]


async def send_pli(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Ask the peer sending to ``receiver`` for a keyframe of ``media_ssrc``."""
    await receiver._send_rtcp_pli(media_ssrc)


@contextlib.contextmanager
def host_addresses(addresses: Sequence[str] | None) -> Iterator[None]:
    """Gather host candidates on ``addresses`` only (None: aioice's own choice) for ICE
    gathering started in this context (``setLocalDescription``)."""
    install()
    token = _HOST_ADDRESSES.set(None if addresses is None else tuple(addresses))
    try:
        yield
    finally:
        _HOST_ADDRESSES.reset(token)
