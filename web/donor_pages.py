"""The donor portal (``/donor``): claim or register, read and grant consent, withdraw, receipts, uses,
export, erase. Signed out it offers the claim of a record a cooperative registered (with its code) and
self-registration; the new donor token becomes the session and is shown once.

Reading is done here from the consent services; the buttons (grant, withdraw, receipt, erase) call
the JSON API through ``static/app.js``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from consent import donors, portal
from consent.receipts import Signer
from datacommons.auth import CSRF_COOKIE, TOKEN_COOKIE, authenticate
from datacommons.deps import SessionDep, commons_of
from datacommons.errors import InvalidInput, NotFound
from datacommons.guards import Guard, Rate
from web.pages import page_principal, render

router = APIRouter(include_in_schema=False)
#: Registering and claiming a record sign a visitor in: rate-limited per address, as /login.
GUARDS = (Guard("/donor/register", rate=Rate.LOGIN), Guard("/donor/claim", rate=Rate.LOGIN))


@router.get("/donor", response_class=HTMLResponse)
def donor_page(request: Request, session: SessionDep) -> HTMLResponse:
    """The portal of the signed-in donor, or the registration form."""
    principal = page_principal(request, session)
    context: dict[str, Any] = {"portal": None, "new_token": None, "error": None}
    if principal is not None and principal.role == "donor" and principal.donor_id:
        kek = Signer.of(commons_of(request).settings).kek
        context["portal"] = portal.portal(
            session,
            donor_id=principal.donor_id,
            kek=kek,
            epsilon_per_person=commons_of(request).settings.privacy_epsilon_per_person,
        )
    return render(request, "donor.html", context, principal=principal)


@router.get("/donor/register")
def donor_register_again(request: Request) -> RedirectResponse:
    """The registration answer's own links (e.g. the language switch) lead back to the portal."""
    lang = request.query_params.get("lang")
    return RedirectResponse("/donor" + (f"?lang={lang}" if lang in ("it", "en") else ""), status_code=303)


@router.post("/donor/register", response_class=HTMLResponse)
def donor_register(
    request: Request, name: Annotated[str, Form()] = "", email: Annotated[str, Form()] = ""
) -> HTMLResponse:
    """Register a donor; their token becomes this browser's session and is shown this once."""
    kek = Signer.of(commons_of(request).settings).kek

    def act(session: Session) -> tuple[str, str]:
        donor, token = donors.register_self(
            session, kek=kek, name=name.strip() or None, email=email.strip() or None
        )
        return donor.id, token

    return _sign_in(request, act)


@router.post("/donor/claim", response_class=HTMLResponse)
def donor_claim(
    request: Request,
    donor_id: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    """Claim the donor record a cooperative registered, with the code it gave the person."""
    kek = Signer.of(commons_of(request).settings).kek

    def act(session: Session) -> tuple[str, str]:
        donor, token = donors.claim(session, donor_id=donor_id.strip(), code=code.strip(), kek=kek)
        return donor.id, token

    return _sign_in(request, act)


def _sign_in(request: Request, act: Callable[[Session], tuple[str, str]]) -> HTMLResponse:
    """Run ``act`` (it returns the donor id and a new token); the token becomes this browser's
    session and is shown this once. A refusal renders the form again with its reason."""
    settings = commons_of(request).settings
    try:
        with commons_of(request).transaction(immediate=True) as session:
            donor_id, token = act(session)
    except (InvalidInput, NotFound) as exc:
        return render(
            request,
            "donor.html",
            {"portal": None, "new_token": None, "error": exc.message},
            principal=None,
            status=exc.status,
        )
    csrf = secrets.token_urlsafe(24)
    with commons_of(request).sessions() as session:
        principal = authenticate(session, token)
        data = portal.portal(
            session,
            donor_id=donor_id,
            kek=Signer.of(settings).kek,
            epsilon_per_person=settings.privacy_epsilon_per_person,
        )
    request.cookies[CSRF_COOKIE] = csrf  # the page rendered now already carries the new CSRF token
    response = render(
        request,
        "donor.html",
        {"portal": data, "new_token": token, "error": None},
        principal=principal,
        status=201,
    )
    secure = settings.public_url.startswith("https://")
    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="lax", secure=secure, max_age=12 * 3600)
    response.set_cookie(CSRF_COOKIE, csrf, samesite="strict", secure=secure, max_age=12 * 3600)
    response.headers["Cache-Control"] = "no-store"
    return response
