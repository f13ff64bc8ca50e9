"""Administration of API tokens over HTTP (``/api/v1/admin/tokens``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from datacommons import auth
from datacommons.auth import ApiToken, IssuedRole
from datacommons.deps import AdminPrincipal, IntId, PagingDep, SessionDep, commons_of
from datacommons.schemas import ListOf, error_responses

router = APIRouter(prefix="/admin/tokens", tags=["admin"], responses=error_responses(401, 403, 422))


class TokenCreate(BaseModel):
    """A token to create: role, name, and the organisation it belongs to.

    No donor tokens: a donor's credential comes only from the donor's own registration or claim
    code, so no administrator can act, read or consent in a donor's name.
    """

    role: IssuedRole
    name: str = Field(min_length=1, max_length=200)
    organisation: str | None = Field(None, max_length=200)
    ttl_days: int | None = Field(None, ge=1, le=3650)


class TokenPublic(BaseModel):
    """A token as listed: never its value."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    hint: str
    name: str
    role: str
    organisation_id: int | None
    donor_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    """A new token, with its value: shown this once only."""

    token: str


@router.get("", response_model=ListOf[TokenPublic])
def list_tokens(session: SessionDep, _admin: AdminPrincipal, page: PagingDep) -> ListOf[TokenPublic]:
    """The tokens, oldest first (hint, role, owner, dates; never the value), a page of them."""
    tokens = session.scalars(select(ApiToken).order_by(ApiToken.id))
    return page.of([TokenPublic.model_validate(t) for t in tokens])


@router.post("", response_model=TokenCreated, status_code=201, responses=error_responses(400))
def create_token(
    body: TokenCreate, request: Request, session: SessionDep, admin: AdminPrincipal
) -> TokenCreated:
    """Create a token; its value is in this answer and nowhere else."""
    settings = commons_of(request).settings
    org = auth.get_or_create_organisation(session, body.organisation) if body.organisation else None
    days = body.ttl_days or settings.token_ttl_days
    token, clear = auth.create_token(
        session, role=body.role, name=body.name, organisation=org, ttl=timedelta(days=days), actor=admin.actor
    )
    session.commit()
    return TokenCreated(**TokenPublic.model_validate(token).model_dump(), token=clear)


@router.post("/{token_id}/revoke", response_model=TokenPublic, responses=error_responses(404))
def revoke_token(token_id: IntId, session: SessionDep, admin: AdminPrincipal) -> TokenPublic:
    """Revoke a token: it is refused from now on."""
    token = auth.revoke_token(session, token_id, actor=admin.actor)
    session.commit()
    return TokenPublic.model_validate(token)
