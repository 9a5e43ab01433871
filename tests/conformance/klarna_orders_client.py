"""Drives the emulator with `klarna-orders` (PyPI), a Klarna Payments client generated from
Klarna's OpenAPI by Speakeasy, which nobody here wrote: sessions (create, read, update), order
creation, a byte-identical replay of it, cancel authorization, and customer tokens. The consumer
pays through the emulator's control API (no browser), as a test would.

Usage: python klarna_orders_client.py http://127.0.0.1:PORT
Prints one line per step and `klarna-orders: N passed, M failed`; exits non-zero on a failure.
"""

from __future__ import annotations

import base64
import sys
import traceback

import requests
import klarna
from klarna.models import operations, shared

BASE = sys.argv[1].rstrip("/")
AUTH = "Basic " + base64.b64encode(b"DemoMerchant:DemoPassword").decode()
SDK = klarna.Klarna(security=shared.Security(api_key_auth=AUTH), server_url=BASE)
results: list[tuple[str, bool, str]] = []


def step(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, True, ""))
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the rest
            results.append((name, False, f"{type(e).__name__}: {e}"))
            traceback.print_exc(limit=2)
        return fn
    return wrap


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def lines():
    return [
        shared.OrderLine(name="Battery Power Pack", quantity=1, unit_price=59500, total_amount=59500,
                         tax_rate=2500, total_tax_amount=11900, reference="19-402", type="physical"),
        shared.OrderLine(name="Shipping", quantity=1, unit_price=2900, total_amount=2900,
                         tax_rate=2500, total_tax_amount=580, type="shipping_fee"),
    ]


def session_input(intent=None):
    return shared.SessionCreateInput(
        purchase_country="SE", purchase_currency="SEK", locale="sv-SE",
        order_amount=62400, order_tax_amount=12480, order_lines=lines(),
        intent=intent,
        billing_address=shared.Address(given_name="Testperson-se", family_name="Approved",
                                       email="youremail@email.com", street_address="Stårgatan 1",
                                       postal_code="12345", city="Ankeborg", country="SE"),
    )


def create_session(intent=None) -> str:
    res = SDK.sessions.create(session_input(intent))
    check(res.status_code == 200, f"create session: {res.status_code} {res.raw_response.text}")
    check(res.merchant_session is not None and res.merchant_session.session_id, "session id")
    return res.merchant_session.session_id


def pay(kp_session: str) -> str:
    """The consumer pays on the hosted page (through the control API); the authorization token."""
    r = requests.post(f"{BASE}/hpp/v1/sessions",
                      json={"payment_session_url": f"{BASE}/payments/v1/sessions/{kp_session}"},
                      headers={"Authorization": AUTH}, timeout=10)
    check(r.status_code == 201, f"HPP session: {r.status_code} {r.text}")
    hpp = r.json()["session_id"]
    r = requests.post(f"{BASE}/_sim/hpp/{hpp}/pay", timeout=10)
    check(r.status_code == 200, f"pay: {r.status_code} {r.text}")
    return r.json()["authorization_token"]


def order_input():
    return shared.CreateOrderRequestInput(
        purchase_country="SE", purchase_currency="SEK", locale="sv-SE",
        order_amount=62400, order_tax_amount=12480, order_lines=lines(),
        merchant_reference1="ORDER-1",
    )


state: dict = {}


@step("sessions: create, read, update")
def _sessions():
    sid = create_session()
    read = SDK.sessions.read(operations.ReadCreditSessionRequest(session_id=sid))
    check(read.status_code == 200, f"read: {read.status_code} {read.raw_response.text}")
    check(read.session_read is not None and read.session_read.order_amount == 62400, "read amount")
    check(read.session_read.status.value == "incomplete", f"status {read.session_read.status}")
    upd = SDK.sessions.update(operations.UpdateCreditSessionRequest(
        session_id=sid,
        session_input=shared.SessionInput(merchant_reference2="REF-2")))
    check(upd.status_code == 204, f"update: {upd.status_code} {upd.raw_response.text}")
    again = SDK.sessions.read(operations.ReadCreditSessionRequest(session_id=sid))
    check(again.session_read.merchant_reference2 == "REF-2", "update kept")
    missing = SDK.sessions.read(operations.ReadCreditSessionRequest(
        session_id="0b1d9815-165e-42e2-8867-35bc03789e00"))
    check(missing.status_code == 404, f"unknown session: {missing.status_code}")


@step("orders: create, then a byte-identical replay")
def _orders():
    sid = create_session()
    token = pay(sid)
    request = operations.CreateOrderRequest(authorization_token=token, create_order_request_input=order_input())
    first = SDK.orders.create(request)
    check(first.status_code == 200, f"create order: {first.status_code} {first.raw_response.text}")
    check(first.order is not None and first.order.order_id, "order id")
    again = SDK.orders.create(request)
    check(first.raw_response.request.body == again.raw_response.request.body, "the client sent the same bytes")
    check(again.status_code == 200, f"replay: {again.status_code} {again.raw_response.text}")
    check(again.order.order_id == first.order.order_id, "the replay names the same order")
    other = order_input()
    other.merchant_reference1 = "ORDER-2"
    different = SDK.orders.create(operations.CreateOrderRequest(authorization_token=token, create_order_request_input=other))
    check(different.status_code == 409, f"another body: {different.status_code} {different.raw_response.text}")
    om = requests.get(f"{BASE}/ordermanagement/v1/orders/{first.order.order_id}",
                      headers={"Authorization": AUTH}, timeout=10)
    check(om.status_code == 200 and om.json()["order_amount"] == 62400, f"OM read: {om.status_code}")
    state["order_id"] = first.order.order_id


@step("authorizations: cancel")
def _cancel():
    token = pay(create_session())
    res = SDK.authorizations.cancel(operations.CancelAuthorizationRequest(authorization_token=token))
    check(res.status_code == 204, f"cancel: {res.status_code} {res.raw_response.text}")
    after = SDK.orders.create(operations.CreateOrderRequest(authorization_token=token, create_order_request_input=order_input()))
    check(after.status_code == 404, f"order on a cancelled token: {after.status_code}")
    twice = SDK.authorizations.cancel(operations.CancelAuthorizationRequest(authorization_token=token))
    check(twice.status_code == 404, f"cancel again: {twice.status_code}")


@step("customer tokens: create for tokenize, refuse for buy")
def _tokens():
    token = pay(create_session(intent=shared.SessionCreateIntentEnum.TOKENIZE))
    body = shared.CustomerTokenCreationRequest(
        purchase_country="SE", purchase_currency="SEK", locale="sv-SE",
        description="Subscription", intended_use=shared.CustomerTokenCreationRequestIntendedUseEnum.SUBSCRIPTION)
    res = SDK.tokens.purchase(operations.PurchaseTokenRequest(
        authorization_token=token, customer_token_creation_request=body))
    check(res.status_code == 200, f"customer token: {res.status_code} {res.raw_response.text}")
    check(res.customer_token_creation_response is not None
          and res.customer_token_creation_response.token_id, "token id")
    buy = pay(create_session())
    refused = SDK.tokens.purchase(operations.PurchaseTokenRequest(
        authorization_token=buy, customer_token_creation_request=body))
    check(refused.status_code == 403, f"token for intent buy: {refused.status_code} {refused.raw_response.text}")


for name, ok, why in results:
    print(f"  {'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + why}")
passed = sum(1 for _, ok, _ in results if ok)
failed = len(results) - passed
print(f"klarna-orders: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
