"""Secret links to the web portal: one district's page (``/d/<token>``) or the head's dashboard (``/h/<token>``).

A token is ``secrets.token_urlsafe(32)`` (256 random bits). Only its SHA-256 is stored
(``AccessToken.token_hash``), so a copy of the database does not open the portal; the link is shown
once, when it is issued. A token that is unknown, revoked, of another cluster or of the other role
resolves to ``None`` and the portal answers 404, the same as for a page that does not exist.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from tracker.models import AccessToken, District, utcnow
from tracker.text import fold

if TYPE_CHECKING:
    from tracker.context import Context

ROLE_DISTRICT = "district"
ROLE_HEAD = "head"
PATH_PREFIX = {ROLE_DISTRICT: "/d/", ROLE_HEAD: "/h/"}

# token_urlsafe(32) gives 43 characters of the URL-safe base64 alphabet. Anything else is not a token
# (checked before touching the database).
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{43}$")


@dataclass(frozen=True)
class Access:
    """Who a valid token lets in."""

    token_id: int
    role: str  # district | head
    token_hash: str
    district_id: int | None = None
    district_code: str | None = None
    district_name: str | None = None
    label: str = ""  # who the link was given to; a confirmation through it is recorded under this name

    @property
    def is_head(self) -> bool:
        return self.role == ROLE_HEAD


@dataclass(frozen=True)
class TokenInfo:
    """One issued link, for `tracker tokens list` (the token itself is never known again)."""

    id: int
    role: str
    district_code: str | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


class UnknownDistrict(LookupError):
    pass


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def link_path(role: str, token: str) -> str:
    """``/d/<token>`` for a district, ``/h/<token>`` for the cluster head."""
    return PATH_PREFIX[role] + token


def _district(session: Session, cluster_id: str, code: str) -> District:
    rows = session.exec(select(District).where(District.cluster_id == cluster_id)).all()
    for row in rows:
        if row.code == code:
            return row
    for row in rows:  # `hbt` or the name typed at the terminal
        if fold(code) in (fold(row.code), fold(row.name)):
            return row
    raise UnknownDistrict(code)


def issue(session: Session, cluster_id: str, *, role: str, district_code: str | None = None,
          label: str = "") -> tuple[str, AccessToken]:
    """Create a link; returns the token (to show once) and its stored row.

    Raises :class:`UnknownDistrict` when ``district_code`` names no district of the cluster.
    """
    if role not in PATH_PREFIX:
        raise ValueError(f"unknown role {role!r}")
    district_id = None
    if role == ROLE_DISTRICT:
        if not district_code:
            raise ValueError("a district link needs a district")
        district_id = _district(session, cluster_id, district_code).id
    token = new_token()
    row = AccessToken(cluster_id=cluster_id, token_hash=hash_token(token), role=role,
                      district_id=district_id, label=label)
    session.add(row)
    session.flush()
    return token, row


def resolve(session: Session, cluster_id: str, token: str, role: str) -> Access | None:
    """The access a token gives, or None (unknown, revoked, another cluster, another role)."""
    if not _TOKEN_SHAPE.match(token or ""):
        return None
    row = session.exec(select(AccessToken).where(AccessToken.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None or row.cluster_id != cluster_id or row.role != role:
        return None
    if role == ROLE_HEAD:
        return Access(token_id=row.id, role=role, token_hash=row.token_hash, label=row.label)
    district = session.get(District, row.district_id)
    if district is None or district.cluster_id != cluster_id:
        return None
    return Access(token_id=row.id, role=role, token_hash=row.token_hash, district_id=district.id,
                  district_code=district.code, district_name=district.name, label=row.label)


def revoke(session: Session, cluster_id: str, *, district_code: str | None = None, head: bool = False,
           token_id: int | None = None, token: str | None = None) -> list[int]:
    """Revoke the active links selected (all of a district, all of the head, one by id or by token).

    Returns the ids revoked; revoking twice is a no-op.
    """
    query = select(AccessToken).where(AccessToken.cluster_id == cluster_id, AccessToken.revoked_at.is_(None))
    if token is not None:
        query = query.where(AccessToken.token_hash == hash_token(token))
    elif token_id is not None:
        query = query.where(AccessToken.id == token_id)
    elif head:
        query = query.where(AccessToken.role == ROLE_HEAD)
    elif district_code is not None:
        district = _district(session, cluster_id, district_code)
        query = query.where(AccessToken.role == ROLE_DISTRICT, AccessToken.district_id == district.id)
    else:
        raise ValueError("say which links to revoke")
    now = utcnow()
    ids = []
    for row in session.exec(query).all():
        row.revoked_at = now
        session.add(row)
        ids.append(row.id)
    session.flush()
    return sorted(ids)


def list_tokens(session: Session, cluster_id: str, *, include_revoked: bool = False) -> list[TokenInfo]:
    query = (
        select(AccessToken, District.code)
        .join(District, District.id == AccessToken.district_id, isouter=True)
        .where(AccessToken.cluster_id == cluster_id)
        .order_by(AccessToken.id)
    )
    if not include_revoked:
        query = query.where(AccessToken.revoked_at.is_(None))
    return [TokenInfo(id=row.id, role=row.role, district_code=code, label=row.label, created_at=row.created_at,
                      revoked_at=row.revoked_at) for row, code in session.exec(query).all()]


def link_maker(ctx: Context) -> Callable[[str, str], str] | None:
    """Issues a district link for a message and returns it whole (``[web] base_url`` + ``/d/<token>``),
    or None when the portal has no address in the config.

    Why a new link per message: only a token's hash is stored, so an existing link cannot be put in a
    message; a link of its own, labelled with what it was sent for, is what the unit's confirmation is
    recorded under, and it can be revoked alone (``tracker tokens revoke --id``)."""
    base = ctx.settings.web.base_url
    if not base:
        return None

    def make(district_code: str, label: str) -> str:
        with ctx.session(write=True) as session:
            token, _row = issue(session, ctx.cluster_id, role=ROLE_DISTRICT, district_code=district_code, label=label)
        return base.rstrip("/") + link_path(ROLE_DISTRICT, token)

    return make
