"""The objection pages and the Art. 21(5) API.

- ``GET /o/{token}`` shows what the objection covers and a confirm button; it
  records nothing, because mail scanners and link prefetchers follow links.
- ``POST /o/{token}`` asks for the objection to be recorded (an optional
  reason, never required) and answers a confirmation page.
- ``POST /api/v1/objections``: objection by automated means, with a token,
  or with user_id and purpose_id and the admin token; 202.
- ``GET /object`` and ``POST /object``: for people without a notice; the
  objection is recorded only when the link emailed to the address is used,
  so that nobody objects in someone else's name. The form cannot mail-bomb
  anyone (:mod:`notifications.object_limits`): one email per address and
  purpose per hour, a daily cap per address, a per-client limit (429), and
  the email leaves from a bounded background queue with its own SMTP
  connection (:mod:`streams.objections.object_requests`). The answer is the
  same page whether a mail was sent or not. The link's user id is the
  address's keyed hash, ``email-hmac:...``; its objection goes through the
  address index (:mod:`streams.objections.address_index`), which records it
  under the account's user_id when the address has one.

The signed token is the capability: no cookies, no sessions, no redirects.
A forged, tampered or unknown token answers 404 and records nothing.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from faust.web import View

from notifications.addresses import index_keys, pseudonymous_user_id
from notifications.audience import is_deliverable_address
from notifications.event_types import ObjectionChannel
from notifications.links import InvalidToken, TokenClaims, objection_url, sign_token, verify_token
from notifications.object_limits import ClientLimiter, SendLimiter
from notifications.web_pages import (
    ERROR_INVALID_EMAIL,
    ERROR_UNKNOWN_PURPOSE,
    Page,
    PurposeSummary,
    WebPages,
    page_language,
)
from streams.objections.handlers import IntakePorts, submit_objection
from streams.objections.object_requests import ObjectMail, start_object_mailer
from streams.runtime.faust_ports import FaustTopic
from streams.web.auth import is_admin
from streams.web.proxies import TrustedProxies

if TYPE_CHECKING:
    from streams.app import PreavisApp
    from streams.wiring import Wiring

MAX_BODY_BYTES = 16 * 1024
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


TOO_MANY_REQUESTS = 429


def register(app: PreavisApp, wiring: Wiring) -> None:
    """Add the objection pages and API."""
    topics, settings = wiring.topics, wiring.settings
    pages = WebPages()
    catalog = wiring.purpose_catalog
    secret = settings.link_keys()  # PREAVIS_LINK_SECRET signs; PREAVIS_LINK_SECRETS_OLD verify
    # /object: the link's pseudonym is keyed like the address index (current secret)
    index_key = index_keys(settings.link_keys().verifying)[0]
    proxies = TrustedProxies(settings.trusted_proxies)
    send_limiter = SendLimiter(settings.object_daily_cap)
    client_limiter = ClientLimiter(settings.object_client_per_minute)
    object_mail = start_object_mailer(app, settings)
    intake = IntakePorts(
        requests=FaustTopic(topics.objection_requests),
        address_index=FaustTopic(topics.address_index),
    )

    def claims_of(token: str) -> TokenClaims | None:
        try:
            return verify_token(secret, token)
        except InvalidToken:
            return None

    def summaries(claims: TokenClaims) -> list[PurposeSummary]:
        return [catalog.summary(p, claims.language) for p in claims.purposes]

    async def request_objection(
        claims: TokenClaims, channel: ObjectionChannel, reason: str | None = None
    ) -> None:
        await submit_objection(
            intake, claims, channel, reason, request_id=uuid.uuid4().hex, now=datetime.now(UTC)
        )

    headers = {
        **SECURITY_HEADERS,
        "Content-Security-Policy": pages.content_security_policy + "; form-action 'self'",
    }

    def respond(view: View, page: Page) -> Any:
        return view.html(page.html, status=page.status, headers=dict(headers))

    def not_found(view: View, request: Any) -> Any:
        language = page_language(request.headers.get("Accept-Language"))
        return respond(view, pages.not_found(language))

    @app.page("/o/{token}", name="objection")
    class ObjectionView(View):
        async def get(self, request: Any, token: str) -> Any:
            claims = claims_of(token)
            if claims is None:
                return respond(
                    self, pages.not_found(page_language(request.headers.get("Accept-Language")))
                )
            controller = catalog.controller_name(claims.campaign_id, list(claims.purposes))
            return respond(
                self,
                pages.objection(claims.language, summaries(claims), controller, f"/o/{token}"),
            )

        async def post(self, request: Any, token: str) -> Any:
            claims = claims_of(token)
            if claims is None:
                return respond(
                    self, pages.not_found(page_language(request.headers.get("Accept-Language")))
                )
            form = await request.post() if request.can_read_body else {}
            await request_objection(claims, "email_link", str(form.get("reason") or ""))
            return respond(self, pages.objection_recorded(claims.language, summaries(claims)))

    @app.page("/api/v1/objections", name="api_objections")
    class ApiObjectionsView(View):
        async def post(self, request: Any) -> Any:
            try:
                body = json.loads(await request.read() or b"{}")
            except ValueError:
                return self.json({"error": "the body is not JSON"}, status=400)
            if not isinstance(body, dict):
                return self.json({"error": "the body must be a JSON object"}, status=400)
            if "token" in body:
                claims = claims_of(str(body["token"]))
                if claims is None:
                    return self.json({"error": "token: not a valid objection token"}, status=404)
            else:
                if not is_admin(request, settings):
                    return self.json({"error": "unauthorized"}, status=401)
                user_id, purpose_id = body.get("user_id"), body.get("purpose_id")
                if not isinstance(user_id, str) or not user_id:
                    return self.json({"error": "user_id: required, a string"}, status=400)
                if not isinstance(purpose_id, str) or not purpose_id:
                    return self.json({"error": "purpose_id: required, a string"}, status=400)
                claims = TokenClaims(user_id, (purpose_id,), None)
            reason = body.get("reason")
            await request_objection(claims, "api", reason if isinstance(reason, str) else None)
            return self.json(
                {
                    "status": "accepted",
                    "user_id": claims.user_id,
                    "purposes": list(claims.purposes),
                },
                status=202,
            )

    @app.page("/object", name="object_form")
    class ObjectFormView(View):
        def _purposes(self, language: str) -> list[PurposeSummary]:
            return [catalog.summary(p, language) for p in sorted(catalog.purposes)]

        async def get(self, request: Any) -> Any:
            language = page_language(request.headers.get("Accept-Language"))
            return respond(self, pages.object_form(language, self._purposes(language)))

        async def post(self, request: Any) -> Any:
            client = proxies.client_address(request)
            if not client_limiter.allow(client):
                object_mail.count("limited")
                language = page_language(request.headers.get("Accept-Language"))
                sent = pages.object_request_sent(language)
                return respond(self, dataclasses.replace(sent, status=TOO_MANY_REQUESTS))
            form = await request.post()
            language = page_language(
                str(form.get("lang") or request.headers.get("Accept-Language") or "")
            )
            address = str(form.get("email") or "").strip()
            purpose_id = str(form.get("purpose_id") or "")
            if purpose_id not in catalog.purposes:
                return respond(
                    self,
                    pages.object_form(
                        language,
                        self._purposes(language),
                        error=ERROR_UNKNOWN_PURPOSE,
                        email_value=address,
                    ),
                )
            if not is_deliverable_address(address):
                return respond(
                    self,
                    pages.object_form(
                        language,
                        self._purposes(language),
                        error=ERROR_INVALID_EMAIL,
                        email_value=address,
                    ),
                )
            # the same answer whatever happens next: sent, limited or dropped
            claims = TokenClaims(
                pseudonymous_user_id(index_key, address), (purpose_id,), None, language
            )
            url = objection_url(settings.public_url, sign_token(secret, claims))
            if not object_mail.has_room():
                object_mail.count("dropped")  # a full queue must not use up the address's hour
            elif send_limiter.allow(address, purpose_id):
                mail = ObjectMail(address, catalog.summary(purpose_id, language), url, language)
                object_mail.offer(mail)
            else:
                object_mail.count("limited")
            return respond(self, pages.object_request_sent(language))
