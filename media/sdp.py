"""Offers, filtered: the hub answers VP8 (with its RTX) and Opus only.

aiortc negotiates the intersection of the offer with its own codecs, and setting codec
preferences after the remote description has no effect, so the hub edits the offer's text
before handing it over: each m-line keeps the payload types of the wanted codec and the
RTX types that repair them, and loses every attribute line of the others. Text, not a
parsed model, so that attributes aiortc does not model pass through untouched.
"""

from __future__ import annotations

import re

from msgspec import Struct

KEEP = {"audio": "opus", "video": "vp8"}
DIRECTIONS = frozenset({"sendrecv", "sendonly", "recvonly", "inactive"})
_PT_ATTR = re.compile(r"^a=(rtpmap|fmtp|rtcp-fb):(\d+|\*)[ \t]")
_APT = re.compile(r"(?:^|;)\s*apt=(\d+)")


class BadOffer(ValueError):
    """The offer cannot be answered (code media.bad_offer)."""


class Section(Struct, frozen=True, kw_only=True):
    """One m-line of an offer, as the hub needs it."""

    kind: str  # "audio" | "video"
    mid: str
    direction: str  # the offerer's: sendrecv, sendonly, recvonly or inactive
    media_ssrc: int | None  # the offerer's media SSRC (not the RTX one), if signalled

    @property
    def sends(self) -> bool:
        """The offerer sends media on this m-line."""
        return self.direction in ("sendrecv", "sendonly")

    @property
    def receives(self) -> bool:
        """The offerer wants media on this m-line."""
        return self.direction in ("sendrecv", "recvonly")


def _filter_section(lines: list[str]) -> tuple[list[str], Section]:
    head = lines[0][2:].split()
    if len(head) < 4:
        raise BadOffer("malformed m-line")
    kind, offered = head[0], head[3:]
    if kind not in KEEP:
        raise BadOffer(f"unsupported m-line {kind}")
    names: dict[str, str] = {}
    apt: dict[str, str] = {}
    mid = None
    direction = "sendrecv"
    fid: list[int] = []
    ssrcs: list[int] = []
    for line in lines[1:]:
        if line.startswith("a=rtpmap:"):
            pt, _, rest = line[9:].partition(" ")
            names[pt] = rest.split("/")[0].lower()
        elif line.startswith("a=fmtp:"):
            pt, _, rest = line[7:].partition(" ")
            found = _APT.search(rest)
            if found:
                apt[pt] = found.group(1)
        elif line.startswith("a=mid:"):
            mid = line[6:].strip()
        elif line[2:].strip() in DIRECTIONS and line.startswith("a="):
            direction = line[2:].strip()
        elif line.startswith("a=ssrc-group:FID "):
            fid = [int(x) for x in line.split()[1:]]
        elif line.startswith("a=ssrc:"):
            ssrcs.append(int(line[7:].split()[0]))
    if mid is None:
        raise BadOffer("an m-line has no mid")
    main = [pt for pt in offered if names.get(pt) == KEEP[kind]]
    if not main:
        raise BadOffer(f"no {KEEP[kind]} in the {kind} m-line")
    rtx = [pt for pt in offered if names.get(pt) == "rtx" and apt.get(pt) in main]
    kept = set(main) | set(rtx)
    out = [" ".join(["m=" + kind, head[1], head[2], *main, *rtx])]
    for line in lines[1:]:
        attr = _PT_ATTR.match(line)
        if attr is None or attr.group(2) == "*" or attr.group(2) in kept:
            out.append(line)
    media_ssrc = fid[0] if fid else (ssrcs[0] if ssrcs else None)
    return out, Section(kind=kind, mid=mid, direction=direction, media_ssrc=media_ssrc)


def filter_offer(sdp: str) -> tuple[str, tuple[Section, ...]]:
    """The offer with every m-line filtered, and its m-lines in order. Raises ``BadOffer``
    if it is not an offer the hub can answer with VP8 and Opus on one transport (every
    m-line in one BUNDLE group, as browsers offer)."""
    lines = [line for line in sdp.replace("\r\n", "\n").split("\n") if line]
    if not lines or not lines[0].startswith("v="):
        raise BadOffer("not an SDP")
    bundle = next((ln.split()[1:] for ln in lines if ln.startswith("a=group:BUNDLE ")), [])
    out: list[str] = []
    sections: list[Section] = []
    start = next((i for i, line in enumerate(lines) if line.startswith("m=")), len(lines))
    out.extend(lines[:start])
    while start < len(lines):
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("m=")), len(lines)
        )
        kept, section = _filter_section(lines[start:end])
        out.extend(kept)
        sections.append(section)
        start = end
    if not sections:
        raise BadOffer("no m-line")
    if sorted(bundle) != sorted(s.mid for s in sections):
        raise BadOffer("the m-lines are not bundled on one transport")
    return "\r\n".join(out) + "\r\n", tuple(sections)


def check_shape(sections: tuple[Section, ...], mode: str, console_slots: int) -> None:
    """The m-lines the agreed design says each mode offers (docs/protocol.md)."""
    pairs = 1 if mode in ("publish", "receive") else console_slots
    kinds = [s.kind for s in sections]
    if kinds != ["audio", "video"] * pairs:
        raise BadOffer(f"a {mode} offer has m-lines {kinds}")
    for s in sections:
        if s.direction == "inactive":
            raise BadOffer("an inactive m-line")
        if mode != "publish" and not s.receives:
            raise BadOffer(f"a {mode} offer must receive on every m-line")
