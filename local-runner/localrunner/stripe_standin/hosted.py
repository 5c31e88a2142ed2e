"""The hosted Checkout page at a session's ``url`` (``/c/pay/{id}``): the session's items and total, with "Pay"
and "Cancel" buttons that redirect (303) to the success and cancel URLs as Checkout does. It is the customer's
side, so it needs no API key. Mixed into :class:`~.server.StripeStandIn`.
"""
from __future__ import annotations

import html
from typing import Any

from .resources import Resources
from .wire import StripeError


class HostedPage(Resources):
    """Answers ``(status, headers, body)`` for the hosted page's requests."""

    def _hosted(self, method: str, path: str, body: bytes):
        parts = [p for p in path.split("/") if p]  # c, pay, <id>[, pay|cancel]
        session_id = parts[2] if len(parts) > 2 else ""
        try:
            session = self._session(session_id)
        except StripeError:
            return 404, {"Content-Type": "text/html"}, b"<h1>Checkout Session not found</h1>"
        action = parts[3] if len(parts) > 3 else None
        if method == "GET" and action is None:
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self._page(session).encode()
        if method == "POST" and action == "pay":
            try:
                session = self.pay(session_id)
            except StripeError as error:
                return 400, {"Content-Type": "text/html"}, f"<h1>{html.escape(error.message)}</h1>".encode()
            return 303, {"Location": session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)}, b""
        if method == "POST" and action == "cancel":  # Checkout's back link: the session stays open
            target = (session.get("cancel_url") or session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
            return 303, {"Location": target}, b""
        return 405, {"Content-Type": "text/html"}, b"<h1>Method not allowed</h1>"

    def _page(self, session: dict[str, Any]) -> str:
        rows = "".join(f"<li>{html.escape(i['description'])} &times; {i['quantity']}: "
                       f"{i['amount_total'] / 100:.2f} {i['currency'].upper()}</li>"
                       for i in self.line_items.get(session["id"], []))
        message = ((session.get("custom_text") or {}).get("submit") or {}).get("message") or ""
        state = "" if session["status"] == "open" else f"<p>This session is {session['status']}.</p>"
        return (f"<!doctype html><html><head><title>Checkout</title></head><body><h1>Checkout (test mode)</h1>"
                f"<p>{html.escape(message)}</p><ul>{rows}</ul>"
                f"<p>Total: {session['amount_total'] / 100:.2f} {(session['currency'] or '').upper()}</p>{state}"
                f"<form method='post' action='/c/pay/{session['id']}/pay'><button name='pay'>Pay</button></form>"
                f"<form method='post' action='/c/pay/{session['id']}/cancel'><button name='cancel'>Cancel</button>"
                f"</form></body></html>")
