"""Caller identity: tokens the gateway signs are the only ones a service accepts; scope rules."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crmkit.errors import Unauthenticated
from crmkit.identity import (
    AUDIENCE,
    ISSUER,
    DataScope,
    Identity,
    IdentitySigner,
    IdentityVerifier,
    Placement,
    Role,
    claims_of,
    org_path_of,
)
from crmkit.testing import harness
from crmkit.testing.harness import OrgTree


@pytest.fixture
def keys(tmp_path: Path) -> harness.TestKeys:
    return harness.make_keys(tmp_path)


@pytest.fixture
def org() -> OrgTree:
    return OrgTree.create()


def test_verified_token_gives_back_the_signed_identity(keys: harness.TestKeys, org: OrgTree) -> None:
    caller = Identity(
        principal_id="u-1",
        tenant_id=org.tenant_id,
        org_unit_id=org.shop_a,
        org_path=org.path(org.shop_a),
        role=Role.FINANCE,
        display_name="王会计",
        permissions=frozenset({"pii", "export"}),
    )
    assert keys.verifier.verify(keys.signer.sign(caller)) == caller


def test_a_vouched_placement_travels_in_the_token_and_a_malformed_one_is_refused(
    keys: harness.TestKeys, org: OrgTree
) -> None:
    placement = Placement("rep-b", org.shop_b, org.path(org.shop_b))
    caller = replace(org.person(Role.ADMIN, org.hq), placement=placement)
    assert keys.verifier.verify(keys.signer.sign(caller)).placement == placement
    assert keys.verifier.verify(keys.signer.sign(org.person(Role.ADMIN, org.hq))).placement is None

    # Signed with the real key, so only the claim's shape is wrong: two parts instead of three.
    private_key = serialization.load_pem_private_key(keys.private_path.read_bytes(), password=None)
    claims = {**claims_of(caller), "plc": ["rep-b", org.shop_b], "aud": AUDIENCE, "iss": ISSUER, "exp": 2**31}
    token = jwt.encode(claims, private_key, algorithm="EdDSA")
    with pytest.raises(Unauthenticated):
        keys.verifier.verify(token)


def test_token_signed_with_another_key_is_unauthenticated(keys: harness.TestKeys, org: OrgTree) -> None:
    forger = IdentitySigner(Ed25519PrivateKey.generate())
    token = forger.sign(org.person(Role.ADMIN, org.hq))
    with pytest.raises(Unauthenticated):
        keys.verifier.verify(token)


def test_expired_token_is_unauthenticated(keys: harness.TestKeys, org: OrgTree) -> None:
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    token = keys.signer.sign(org.person(Role.SALES, org.shop_a), now=an_hour_ago)
    with pytest.raises(Unauthenticated, match="expired"):
        keys.verifier.verify(token)


def test_token_whose_role_was_raised_after_signing_is_unauthenticated(keys: harness.TestKeys, org: OrgTree) -> None:
    token = keys.signer.sign(org.person(Role.SALES, org.shop_a))
    header, claims, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    decoded["role"] = Role.ADMIN.value
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).decode().rstrip("=")
    with pytest.raises(Unauthenticated):
        keys.verifier.verify(f"{header}.{forged}.{signature}")


def test_garbage_token_is_unauthenticated(keys: harness.TestKeys) -> None:
    with pytest.raises(Unauthenticated):
        keys.verifier.verify("not-a-token")


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_a_refused_token_is_told_only_that_it_is_invalid_not_why(keys: harness.TestKeys, token: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        keys.verifier.verify(token)
    # PyJWT's reasons ("Not enough segments", "Invalid header padding", ...) stay in the log.
    assert refused.value.message.endswith("/ 令牌无效")
    assert ":" not in refused.value.message


def test_public_key_alone_cannot_sign(keys: harness.TestKeys) -> None:
    # The services get only the public key; loading it as a signer must fail loudly.
    with pytest.raises(ValueError):
        IdentitySigner.from_file(keys.public_path)
    assert isinstance(IdentityVerifier.from_file(keys.public_path), IdentityVerifier)


def test_org_path_lists_ancestors_from_the_root() -> None:
    assert org_path_of(["hq", "east", "hangzhou"]) == "/hq/east/hangzhou/"


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (Role.ADMIN, DataScope.TENANT),
        (Role.BOSS, DataScope.TENANT),
        (Role.SUPERVISOR, DataScope.SUBTREE),
        (Role.SERVICE, DataScope.SUBTREE),
        (Role.FINANCE, DataScope.SUBTREE),
        (Role.SALES, DataScope.OWN),
    ],
)
def test_each_role_has_its_data_scope(role: Role, scope: DataScope, org: OrgTree) -> None:
    assert org.person(role, org.hq).scope is scope


def test_tenant_scope_sees_records_anywhere_in_the_tenant(org: OrgTree) -> None:
    boss = org.person(Role.BOSS, org.sub_a)
    assert boss.can_see(owner_id="someone-else", org_path=org.path(org.shop_b))
    assert boss.can_see(owner_id="someone-else", org_path=org.path(org.hq))


def test_subtree_scope_sees_its_own_branch_only(org: OrgTree) -> None:
    supervisor = org.person(Role.SUPERVISOR, org.sub_a)
    assert supervisor.can_see(owner_id="rep-1", org_path=org.path(org.sub_a))
    assert supervisor.can_see(owner_id="rep-1", org_path=org.path(org.shop_a))
    assert not supervisor.can_see(owner_id="rep-1", org_path=org.path(org.shop_b))
    assert not supervisor.can_see(owner_id="rep-1", org_path=org.path(org.hq))


def test_subtree_scope_does_not_match_a_sibling_whose_id_shares_a_prefix() -> None:
    supervisor = Identity(
        principal_id="s-1",
        tenant_id="t",
        org_unit_id="sub1",
        org_path=org_path_of(["hq", "sub1"]),
        role=Role.SUPERVISOR,
    )
    assert not supervisor.can_see(owner_id="rep-1", org_path=org_path_of(["hq", "sub10"]))


def test_own_scope_sees_only_records_it_owns(org: OrgTree) -> None:
    rep = org.person(Role.SALES, org.shop_a, principal_id="rep-1")
    assert rep.can_see(owner_id="rep-1", org_path=org.path(org.shop_b))
    assert not rep.can_see(owner_id="rep-2", org_path=org.path(org.shop_a))
