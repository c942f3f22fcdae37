"""Optional API-key auth: `Authorization: Bearer <key>` or `X-API-Key: <key>`, compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

CHALLENGE = {"WWW-Authenticate": "Bearer"}


def key_checker(api_key: str | None):
    """A FastAPI dependency: with no key configured every request passes; otherwise a missing or wrong key is 401."""

    async def require_key(request: Request) -> None:
        if api_key is None:
            return
        given = request.headers.get("x-api-key")
        authorization = request.headers.get("authorization", "")
        if given is None and authorization.lower().startswith("bearer "):
            given = authorization[len("bearer ") :].strip()
        if given is None:
            raise HTTPException(401, "missing API key; send 'Authorization: Bearer <key>'", CHALLENGE)
        if not hmac.compare_digest(given.encode(), api_key.encode()):
            raise HTTPException(401, "wrong API key", CHALLENGE)

    return require_key
