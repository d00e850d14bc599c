"""The web consoles' files (clients/web/dist), served with caching and compression.

- Hashed assets (``assets/*``: Vite names each after its content) never change under
  their name: ``Cache-Control: public, max-age=31536000, immutable``. Each has a brotli
  (``.br``) and a gzip (``.gz``) copy made at build time (clients/web/scripts/
  compress.mjs, run by ``npm run build``); the best one the client's ``Accept-Encoding``
  allows is sent, with ``Vary: Accept-Encoding``. A file without its copies (a dist
  built by hand) goes out as it is.
- Everything else (the pages, ``index.html`` per console) is revalidated on every load:
  ``Cache-Control: no-cache`` with an ETag from the content's SHA-256, so a browser that
  has the page gets ``304 Not Modified`` until a new build changes it.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
from functools import lru_cache

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, PathLike, StaticFiles
from starlette.types import Scope

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
ASSETS = "assets"
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # in order of preference


def accepted(header: str) -> set[str]:
    """The content codings a client accepts (RFC 9110 §12.5.3): those named with a
    q-value above zero; ``*`` stands for any not named."""
    named: dict[str, float] = {}
    for part in header.split(","):
        token, *params = (p.strip() for p in part.split(";"))
        if not token:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        named[token.lower()] = q
    ok = {name for name, q in named.items() if q > 0 and name != "*"}
    if named.get("*", 0) > 0:
        ok |= {name for name, _ in ENCODINGS if name not in named}
    return ok


@lru_cache(maxsize=256)
def content_etag(path: str, mtime_ns: int, size: int) -> str:
    """A strong ETag from the file's bytes (cached while its mtime and size hold)."""
    del mtime_ns, size  # the cache key only
    with open(path, "rb") as f:
        return '"' + hashlib.sha256(f.read()).hexdigest()[:32] + '"'


class WebFiles(StaticFiles):
    """StaticFiles with the cache and compression policy above."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        request = Headers(scope=scope)
        path = os.fspath(full_path)
        assert isinstance(path, str)
        if self.hashed(path):
            response = self.asset(path, stat_result, request, status_code)
        else:
            etag = content_etag(path, stat_result.st_mtime_ns, stat_result.st_size)
            headers = {"cache-control": REVALIDATE, "etag": etag}
            response = FileResponse(path, status_code, headers, stat_result=stat_result)
        if status_code == 200 and self.is_not_modified(response.headers, request):
            return NotModifiedResponse(response.headers)
        return response

    def hashed(self, path: str) -> bool:
        assert self.directory is not None
        relative = os.path.relpath(path, os.path.realpath(self.directory))
        return relative.split(os.sep, 1)[0] == ASSETS

    @staticmethod
    def asset(
        path: str, stat_result: os.stat_result, request: Headers, status_code: int
    ) -> FileResponse:
        media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        headers = {"cache-control": IMMUTABLE, "vary": "accept-encoding"}
        ok = accepted(request.get("accept-encoding", ""))
        for coding, suffix in ENCODINGS:
            if coding not in ok:
                continue
            try:
                variant = os.stat(path + suffix)
            except OSError:
                continue
            headers["content-encoding"] = coding
            return FileResponse(
                path + suffix, status_code, headers, media_type, stat_result=variant
            )
        return FileResponse(path, status_code, headers, media_type, stat_result=stat_result)
