"""The only place that reaches into aiortc's and aioice's internals.

The hub forwards encoded frames and never decodes. aiortc 1.16 has no public way to get
them out of a receiver, to learn that a browser asked one of the hub's senders for a
keyframe, or to gather ICE candidates on a chosen address (aioice leaves 127.0.0.1 out).
This module does those three things with the smallest reach it can, checks at install time
that the internals it touches still look the way they did in aiortc 1.16, and raises
``AiortcChanged`` otherwise (tests/media/test_forward.py fails loudly on it, and on any
receiver that yields decoded frames instead of packets). pyproject.toml pins
``aiortc>=1.16,<1.17`` for the same reason: review this module before raising the pin.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fractions
import inspect
import queue
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import aioice.ice
import aiortc
import aiortc.rtcrtpreceiver
import av
from aiortc import RTCRtpReceiver, RTCRtpSender

SUPPORTED = "1.16."
VIDEO_CLOCK = 90_000
AUDIO_CLOCK = 48_000


class AiortcChanged(RuntimeError):
    """aiortc (or aioice) no longer has the internals this module relies on."""


# Receivers whose remote track must yield encoded packets, by the track's asyncio queue
# (the only handle aiortc's decoder thread is given). Weak: a closed connection drops out.
_PASSTHROUGH: weakref.WeakSet[asyncio.Queue[Any]] = weakref.WeakSet()
# Addresses to gather host candidates on, for the current task and the tasks it starts.
_HOST_ADDRESSES: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar(
    "nghitruong_host_addresses", default=None
)
_installed = False
_install_lock = threading.Lock()


def is_vp8_keyframe(data: bytes) -> bool:
    """RFC 6386 9.1: bit 0 of a VP8 frame's first byte is 0 on a key frame."""
    return len(data) > 0 and data[0] & 1 == 0


def _passthrough_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
) -> None:
    """Stands in for aiortc's decoder thread: each complete, depayloaded encoded frame
    the jitter buffer hands over becomes one ``av.Packet`` (pts = the RTP timestamp as
    aiortc unwraps it, time base = 1 / the codec's clock rate). ``None`` ends the track,
    as in aiortc's own worker."""
    while True:
        task = input_q.get()
        if task is None:
            asyncio.run_coroutine_threadsafe(output_q.put(None), loop)
            return
        codec, encoded_frame = task
        packet = av.Packet(encoded_frame.data)
        packet.pts = encoded_frame.timestamp
        packet.time_base = fractions.Fraction(1, codec.clockRate)
        if codec.name.upper() == "VP8":
            packet.is_keyframe = is_vp8_keyframe(encoded_frame.data)
        asyncio.run_coroutine_threadsafe(output_q.put(packet), loop)


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
    if not callable(getattr(RTCRtpReceiver, "_send_rtcp_pli", None)):
        raise AiortcChanged("RTCRtpReceiver._send_rtcp_pli is gone")
    return worker, lookup


def install() -> None:
    """Swap aiortc's decoder thread and aioice's host-address lookup for wrappers that
    do what aiortc would have done unless told otherwise (by ``forward_encoded`` and
    ``host_addresses``). Idempotent; raises ``AiortcChanged``."""
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
            if output_q in _PASSTHROUGH:
                _passthrough_worker(loop, input_q, output_q)
            else:
                original_worker(loop, input_q, output_q, decode_error)

        def lookup(use_ipv4: bool, use_ipv6: bool) -> list[str]:
            chosen = _HOST_ADDRESSES.get()
            return original_lookup(use_ipv4, use_ipv6) if chosen is None else list(chosen)

        aiortc.rtcrtpreceiver.decoder_worker = worker
        aioice.ice.get_host_addresses = lookup
        _installed = True


def forward_encoded(receiver: RTCRtpReceiver) -> None:
    """Make ``receiver``'s remote track yield ``av.Packet``s instead of decoded frames.
    Call after ``setRemoteDescription`` (which creates the track) and before the
    connection comes up (which starts the decoder thread)."""
    install()
    if getattr(receiver, "_RTCRtpReceiver__decoder_thread", None) is not None:
        raise AiortcChanged("the receiver's decoder thread is already running")
    track = receiver.track
    track_queue = getattr(track, "_queue", None)
    if not isinstance(track_queue, asyncio.Queue):
        raise AiortcChanged("RemoteStreamTrack has no asyncio queue")
    _PASSTHROUGH.add(track_queue)


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
