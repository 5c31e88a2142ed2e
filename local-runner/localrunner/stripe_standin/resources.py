"""Checkout Sessions, their line items, payments and refunds: Stripe's objects and the rules that change them.

Creating, reading and expiring sessions, the customer's payment (``pay``, which the hosted page and tests call)
and refunds against the resulting charge, each announced by its event (``checkout.session.completed``,
``checkout.session.expired``, ``charge.refunded``). Sessions expire at their ``expires_at``, as on Stripe's clock.
Mixed into :class:`~.server.StripeStandIn`, which owns the state.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from .webhooks import Webhooks
from .wire import StripeError, new_id


class Resources(Webhooks):
    """The stand-in's objects and their transitions; test controls ``fail_creates``, ``pay``, ``expire_now``."""

    url: str
    sessions: dict[str, dict[str, Any]]
    line_items: dict[str, list[dict[str, Any]]]
    refunds: dict[str, dict[str, Any]]
    charges: dict[str, dict[str, Any]]
    fail_creates: int | bool
    _lock: threading.RLock

    def create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self.fail_creates:
                if self.fail_creates is not True:
                    self.fail_creates -= 1
                raise StripeError(500, "An unknown error occurred (stand-in failure injection).", "api_error")
        missing = [name for name in ("success_url", "line_items") if not params.get(name)]
        if params.get("mode") != "payment":
            missing.append("mode")
        if missing:
            raise StripeError(400, f"Missing required param: {missing[0]}.", code="parameter_missing")
        now = int(time.time())
        session_id = new_id("cs")
        items, total, currency = [], 0, None
        for index, item in enumerate(params["line_items"]):
            data = item.get("price_data") or {}
            try:
                unit, quantity = int(data["unit_amount"]), int(item["quantity"])
                currency = data["currency"].lower()
                name = data["product_data"]["name"]
            except (KeyError, TypeError, ValueError):
                raise StripeError(400, f"Invalid line_items[{index}]: price_data with currency, unit_amount and "
                                  "product_data.name, and a quantity are required.", code="parameter_invalid_integer")
            total += unit * quantity
            items.append({"id": new_id("li"), "object": "item", "description": name, "quantity": quantity,
                          "amount_subtotal": unit * quantity, "amount_total": unit * quantity, "currency": currency,
                          "price": {"id": new_id("price"), "object": "price", "unit_amount": unit, "currency": currency,
                                    "product": new_id("prod"), "type": "one_time"}})
        expires_at = int(params.get("expires_at") or now + 24 * 3600)
        session = {"id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
                   "payment_status": "unpaid", "amount_subtotal": total, "amount_total": total, "currency": currency,
                   "metadata": params.get("metadata") or {}, "client_reference_id": params.get("client_reference_id"),
                   "customer_email": params.get("customer_email"), "created": now, "expires_at": expires_at,
                   "success_url": params["success_url"], "cancel_url": params.get("cancel_url"),
                   "custom_text": params.get("custom_text"), "payment_intent": None, "livemode": False,
                   "url": f"{self.url}/c/pay/{session_id}"}
        with self._lock:
            self.sessions[session_id] = session
            self.line_items[session_id] = items
        return session

    def _session(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                raise StripeError(404, f"No such checkout.session: '{session_id}'", code="resource_missing")
            return session

    def _line_items_list(self, session_id: str) -> dict[str, Any]:
        return {"object": "list", "data": list(self.line_items.get(session_id, [])), "has_more": False,
                "url": f"/v1/checkout/sessions/{session_id}/line_items"}

    def expire(self, session_id: str) -> dict[str, Any]:
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise StripeError(400, "Only Checkout Sessions with a status in [open] can be expired.")
            session["status"] = "expired"
            self._emit("checkout.session.expired", dict(session))
            return dict(session)

    def expire_now(self, session_id: str) -> dict[str, Any]:
        """What Stripe does at ``expires_at`` (tests call it instead of waiting 30 minutes)."""
        return self.expire(session_id)

    def _expire_due(self) -> None:
        """Stripe expires open sessions at their ``expires_at`` and says so with ``checkout.session.expired``."""
        now = time.time()
        with self._lock:
            due = [sid for sid, s in self.sessions.items() if s["status"] == "open" and s["expires_at"] <= now]
        for session_id in due:
            try:
                self.expire(session_id)
            except StripeError:
                pass

    def pay(self, session_id: str) -> dict[str, Any]:
        """The customer pays on the hosted page: the session completes and ``checkout.session.completed`` goes out."""
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open" or session["expires_at"] < time.time():
                raise StripeError(400, "This Checkout Session is no longer active.")
            intent = new_id("pi")
            session.update(status="complete", payment_status="paid", payment_intent=intent)
            self.charges[intent] = {"amount": session["amount_total"], "refunded": 0, "currency": session["currency"]}
            self._emit("checkout.session.completed", dict(session))
            return dict(session)

    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        intent = params.get("payment_intent")
        with self._lock:
            charge = self.charges.get(intent or "")
            if charge is None:
                raise StripeError(400, f"No such payment_intent: '{intent}'", code="resource_missing")
            amount = int(params.get("amount") or charge["amount"] - charge["refunded"])
            if charge["refunded"] >= charge["amount"]:
                raise StripeError(400, f"Charge for payment intent {intent} has already been refunded.",
                                  code="charge_already_refunded")
            if amount <= 0 or charge["refunded"] + amount > charge["amount"]:
                raise StripeError(400, "Refund amount is greater than the unrefunded amount.", code="amount_too_large")
            charge["refunded"] += amount
            refund = {"id": new_id("re"), "object": "refund", "amount": amount, "currency": charge["currency"],
                      "payment_intent": intent, "status": "succeeded", "metadata": params.get("metadata") or {},
                      "created": int(time.time())}
            self.refunds[refund["id"]] = refund
            self._emit("charge.refunded", {"object": "charge", "id": new_id("ch"), "payment_intent": intent,
                                           "amount_refunded": charge["refunded"], "refunded": True})
            return refund
