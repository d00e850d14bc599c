"""Documents over HTTP: an upload checked against its declared type and stored by its
content hash before it is announced, and a document served as data, never as a page."""

from __future__ import annotations

import asyncio
import hashlib
import os

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from chamber import commands as c
from chamber.ids import DocHash, ItemId, MemberId, Role
from chamber.model import Sitting
from server import doctypes
from server.auth import Principal
from server.http_base import (
    FORM_BODY,
    ApiError,
    Services,
    bounded,
    lang_of,
    outcome_json,
    principal,
    reply,
)
from server.registry import NotFound


async def upload_document(request: Request, s: Services) -> Response:
    too_large = ApiError(413, "doc.too_large", limit=s.max_upload_bytes)
    request = bounded(request, s.max_upload_bytes + FORM_BODY, too_large)  # first
    who = await principal(request, s)
    sitting = request.path_params["sitting"]
    state = (await s.hub.served(sitting)).state  # UnknownSitting (404) before any work
    assert state is not None
    actor, role = uploader(who, state)
    async with request.form(max_files=1, max_fields=8, max_part_size=FORM_BODY) as form:
        upload = form.get("file")  # its spooled copy is closed when the block ends
        if upload is None or isinstance(upload, str):
            raise ApiError(422, "request.invalid", detail="file")
        data = await upload.read()
    if len(data) > s.max_upload_bytes:
        raise too_large
    media_type = upload.content_type or "application/octet-stream"
    try:  # the content must be what it is declared to be; nothing is stored before
        pages = await asyncio.to_thread(doctypes.inspect, data, media_type)
    except doctypes.Refused as err:
        status = {"doc.bad_type": 415, "doc.type_mismatch": 415}.get(err.code, 422)
        raise ApiError(status, err.code, **err.params) from err
    digest, created = await store_document(s, data)
    title = str(form.get("title") or upload.filename or digest[:12])
    item = form.get("item")
    supersedes = form.get("supersedes")
    await asyncio.to_thread(
        s.registry.add_document, digest, media_type, len(data), state.council.id
    )
    cmd = c.RegisterDocument(
        hash=DocHash(digest),
        title=title,
        pages=pages,
        media_type=media_type,
        item=ItemId(str(item)) if item else None,
        supersedes=DocHash(str(supersedes)) if supersedes else None,
    )
    outcome = await s.hub.submit(sitting, cmd, actor, role, None)
    if not outcome.answer.ok and outcome.answer.code != "doc.exists":
        if created:  # nothing refers to the bytes this request stored: they go again
            await asyncio.to_thread((s.documents / digest).unlink, True)
        return outcome_json(outcome, lang_of(request))
    return reply({"hash": digest, "pages": pages, "media_type": media_type}, 201)


#: Members who may file a document in their sitting, in the order their role is taken.
CLERK_ROLES = (Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARY)


def uploader(who: Principal, state: Sitting) -> tuple[MemberId | None, Role]:
    """Who registers an upload, and in which role: an operator, or the chair, a vice-chair
    or the secretary of the sitting (the chair files an amended text from the console)."""
    if who.kind == "operator":
        return None, Role.OPERATOR
    member = state.member(MemberId(who.id)) if who.kind == "member" else None
    if member is not None and who.council == state.council.id:
        for role in CLERK_ROLES:
            if role in member.roles:
                return member.id, role
    raise ApiError(403, "auth.operator_only")


async def store_document(s: Services, data: bytes, share: bool = True) -> tuple[str, bool]:
    """Store the bytes under their SHA-256, durably (file and folder synced) before the
    event that announces them is written, and with ``share`` in Redis for the other
    nodes (a Redis journal); True if this call created the file."""
    digest = hashlib.sha256(data).hexdigest()
    if share and s.blobs is not None:
        await asyncio.to_thread(s.blobs.put, digest, data)
    path = s.documents / digest

    def write() -> bool:
        s.documents.mkdir(parents=True, exist_ok=True)
        if path.exists():
            return False
        tmp = path.with_suffix(".part")
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
        folder = os.open(s.documents, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
        return True

    return digest, await asyncio.to_thread(write)


async def document(request: Request, s: Services) -> Response:
    digest = request.path_params["digest"]
    if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
        raise ApiError(404, "doc.unknown")
    path = s.documents / digest
    try:
        media_type, _size, _council = await asyncio.to_thread(s.registry.document, digest)
    except NotFound:
        raise ApiError(404, "doc.unknown") from None
    if not await asyncio.to_thread(path.is_file):
        # Uploaded on another node: its bytes are in Redis (checked against the digest).
        data = await asyncio.to_thread(s.blobs.get, digest) if s.blobs is not None else None
        if data is None:
            raise ApiError(404, "doc.unknown")
        await store_document(s, data, share=False)
    # Streamed from the file in chunks (and by ranges, which pdf.js asks for): a 25 MiB
    # document costs a request no more memory than a chunk.
    return FileResponse(path, media_type=media_type, headers=document_headers(digest, media_type))


# A document is served as data, never as a page: a PDF is downloaded, an image shown
# inline, and neither may run script or load anything if opened directly (docs/http-api.md).
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def document_headers(digest: str, media_type: str) -> dict[str, str]:
    disposition = "inline" if media_type.startswith("image/") else "attachment"
    name = f"{digest}.{EXTENSIONS.get(media_type, 'bin')}"
    return {
        "cache-control": "public, max-age=31536000, immutable",
        "content-disposition": f'{disposition}; filename="{name}"',
        "content-security-policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
    }
