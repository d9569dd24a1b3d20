"""Authentication and who-sees-what."""

from __future__ import annotations

import pytest

from tests.emulator import WaldurEmulator
from tests.emulator.client import fetch, fetch_all

ALL_IMAGES = "/api/openstack-images/?show_duplicate_names=true&page_size=300"
PROTECTED = (
    "/api/openstack-images/",
    "/api/openstack-images/usage_stats/",
    "/api/openstack-tenants/",
    "/api/service-settings/",
    "/api/service-settings/?type=OpenStack",
)


@pytest.mark.parametrize("path", PROTECTED)
def test_every_endpoint_needs_a_token(emu, path):
    reply = fetch(emu.url, path)
    assert reply.status == 401
    assert reply.json() == {"detail": "Authentication credentials were not provided."}
    assert reply.header("WWW-Authenticate") == "Token"


@pytest.mark.parametrize("scheme", ["Token", "token", "TOKEN", "Bearer", "bearer", "BeArEr"])
def test_token_and_bearer_keywords_are_case_insensitive(emu, scheme):
    reply = fetch(emu.url, "/api/openstack-images/", emu.tokens["user"], scheme=scheme)
    assert reply.status == 200


def test_bearer_is_not_accepted_by_servers_before_8_0_7(dataset700):
    with WaldurEmulator(dataset700, server_version="8.0.5") as old:
        assert fetch(old.url, "/api/openstack-images/", old.tokens["staff"]).status == 200
        reply = fetch(old.url, "/api/openstack-images/", old.tokens["staff"], scheme="Bearer")
        assert reply.status == 401
        assert reply.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize("header,detail", [
    ("Token 0123456789012345678901234567890123456789", "Invalid token."),
    # Waldur's own messages (waldur_core parse_token_from_request), not DRF's "Invalid token header. ...".
    ("Token", "Invalid token. No credentials provided."),
    ("token ", "Invalid token. No credentials provided."),
    ("Token a b", "Invalid token. Token string should not contain spaces."),
    # A key that is not UTF-8 (the header travels as latin-1).
    ("Token caf\u00e9", "Invalid token header. Token string should not contain invalid characters."),
    ("Basic dXNlcjpwYXNz", "Authentication credentials were not provided."),
    ("", "Authentication credentials were not provided."),
])
def test_bad_authorization_headers(emu, header, detail):
    reply = fetch(emu.url, "/api/openstack-images/", headers={"Authorization": header})
    assert reply.status == 401
    assert reply.json() == {"detail": detail}
    assert reply.header("WWW-Authenticate") == "Token"


def test_expired_token(emu):
    reply = fetch(emu.url, "/api/openstack-images/", emu.tokens["expired"])
    assert reply.status == 401
    assert reply.json() == {"detail": "Token has expired."}


@pytest.mark.parametrize("param", ["token", "access_token", "auth_token", "key"])
def test_token_in_query_string_is_never_accepted(emu, param):
    reply = fetch(emu.url, "/api/openstack-images/?%s=%s" % (param, emu.tokens["staff"]))
    assert reply.status == 401
    assert reply.json() == {"detail": "Authentication credentials were not provided."}


def test_tokens_look_like_waldur_keys(emu):
    assert set(emu.tokens) == {"staff", "user", "expired"}
    for token in emu.tokens.values():
        assert len(token) == 40 and all(ch in "0123456789abcdef" for ch in token)


@pytest.mark.parametrize("username", ["staff", "user"])
def test_image_visibility_matches_truth(emu, dataset700, username):
    truth = dataset700["visibility"][username]
    items, _replies = fetch_all(emu.url, ALL_IMAGES, emu.tokens[username])
    assert [item["uuid"] for item in items] == truth["images"]
    items, _replies = fetch_all(emu.url, "/api/openstack-images/?page_size=300", emu.tokens[username])
    assert [item["uuid"] for item in items] == truth["default_list"]


def test_user_sees_a_strict_subset_and_never_an_image_in_no_tenant(emu, dataset700):
    truth = dataset700["visibility"]
    staff_all, user_all = set(truth["staff"]["images"]), set(truth["user"]["images"])
    assert user_all < staff_all
    assert len(staff_all) == len(dataset700["images"])
    orphans = [img for img in dataset700["images"] if not img["tenant_uuids"]]
    assert orphans
    assert not user_all & {img["uuid"] for img in orphans}
    # Independent recomputation of the rule: linked to a tenant in a project, or of a customer,
    # where the user has a role.
    user = next(u for u in dataset700["users"] if u["username"] == "user")
    customer_of = {p["uuid"]: p["customer_uuid"] for p in dataset700["projects"]}
    mine = {t["uuid"] for t in dataset700["tenants"]
            if t["project_uuid"] in user["project_uuids"] or customer_of[t["project_uuid"]] in user["customer_uuids"]}
    assert user_all == {img["uuid"] for img in dataset700["images"] if set(img["tenant_uuids"]) & mine}
    assert set(truth["user"]["tenants"]) == mine


def test_retrieve_of_an_invisible_image_is_404(emu, dataset700):
    truth = dataset700["visibility"]
    hidden = next(uuid for uuid in truth["staff"]["images"] if uuid not in set(truth["user"]["images"]))
    assert fetch(emu.url, "/api/openstack-images/%s/" % hidden, emu.tokens["staff"]).status == 200
    reply = fetch(emu.url, "/api/openstack-images/%s/" % hidden, emu.tokens["user"])
    assert reply.status == 404
    assert reply.json() == {"detail": "No Image matches the given query."}


def test_older_duplicates_can_be_retrieved(emu, dataset700):
    truth = dataset700["visibility"]["staff"]
    older = next(uuid for uuid in truth["images"] if uuid not in set(truth["default_list"]))
    reply = fetch(emu.url, "/api/openstack-images/%s/" % older, emu.tokens["staff"])
    assert reply.status == 200 and reply.json()["uuid"] == older


@pytest.mark.parametrize("username", ["staff", "user"])
def test_tenant_visibility(emu, dataset700, username):
    items, _replies = fetch_all(emu.url, "/api/openstack-tenants/?page_size=300", emu.tokens[username])
    assert [item["uuid"] for item in items] == dataset700["visibility"][username]["tenants"]
    if username == "user":
        assert len(items) < len(dataset700["tenants"])
        hidden = set(t["uuid"] for t in dataset700["tenants"]) - set(item["uuid"] for item in items)
        reply = fetch(emu.url, "/api/openstack-tenants/%s/" % sorted(hidden)[0], emu.tokens[username])
        assert reply.status == 404
        assert reply.json() == {"detail": "No Tenant matches the given query."}


def test_service_settings_visibility(emu, dataset700):
    staff_items, _replies = fetch_all(emu.url, "/api/service-settings/", emu.tokens["staff"])
    assert len(staff_items) == len(dataset700["service_settings"])
    user_items, _replies = fetch_all(emu.url, "/api/service-settings/", emu.tokens["user"])
    assert [item["uuid"] for item in user_items] == dataset700["visibility"]["user"]["service_settings"]
    user = next(u for u in dataset700["users"] if u["username"] == "user")
    for item in user_items:
        sett = next(s for s in dataset700["service_settings"] if s["uuid"] == item["uuid"])
        assert sett["shared"] or sett["customer_uuid"] in user["customer_uuids"]
        assert "options" not in item
    # The common case: the user sees no OpenStack settings at all, yet sees tenants on them.
    reply = fetch(emu.url, "/api/service-settings/?type=OpenStack", emu.tokens["user"])
    assert reply.status == 200 and reply.json() == [] and reply.count == 0
    private = next(s for s in dataset700["service_settings"] if not s["shared"])
    reply = fetch(emu.url, "/api/service-settings/%s/" % private["uuid"], emu.tokens["user"])
    assert reply.status == 404
    assert reply.json() == {"detail": "No ServiceSettings matches the given query."}


def test_authenticated_users_never_get_403(emu, dataset700):
    for tenant in dataset700["tenants"]:
        reply = fetch(emu.url, "/api/openstack-images/?tenant_uuid=%s" % tenant["uuid"], emu.tokens["user"])
        assert reply.status == 200
