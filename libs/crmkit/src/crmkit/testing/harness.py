"""Helpers for integration tests: identity keys, signed callers and in-process gRPC servers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc

from crmkit.grpc_server import GrpcServer, Registrar
from crmkit.identity import (
    METADATA_KEY,
    Identity,
    IdentitySigner,
    IdentityVerifier,
    Role,
    generate_keypair,
    org_path_of,
)
from crmkit.partners import PartnerCalls
from crmkit.pii import ensure_keyring


@dataclass(frozen=True)
class TestKeys:
    __test__ = False  # a fixture's value, not a test class pytest should collect

    private_path: Path
    public_path: Path
    signer: IdentitySigner
    verifier: IdentityVerifier
    # The personal-data keyring a test's services share (crmkit.pii).
    personal_data_path: Path

    def metadata(self, identity: Identity) -> tuple[tuple[str, str], ...]:
        return ((METADATA_KEY, self.signer.sign(identity)),)


def make_keys(directory: Path) -> TestKeys:
    private_path, public_path = directory / "identity_private.pem", directory / "identity_public.pem"
    generate_keypair(private_path, public_path)
    personal_data_path = directory / "personal-data.keys"
    ensure_keyring(personal_data_path)
    return TestKeys(
        private_path=private_path,
        public_path=public_path,
        signer=IdentitySigner.from_file(private_path),
        verifier=IdentityVerifier.from_file(public_path),
        personal_data_path=personal_data_path,
    )


@dataclass(frozen=True)
class OrgTree:
    """A tenant with HQ → two subsidiaries → one shop each, ids random per test."""

    tenant_id: str
    hq: str
    sub_a: str
    shop_a: str
    sub_b: str
    shop_b: str

    @classmethod
    def create(cls) -> OrgTree:
        ids = [str(uuid.uuid4()) for _ in range(6)]
        return cls(*ids)

    def path(self, unit: str) -> str:
        chains = {
            self.hq: [self.hq],
            self.sub_a: [self.hq, self.sub_a],
            self.shop_a: [self.hq, self.sub_a, self.shop_a],
            self.sub_b: [self.hq, self.sub_b],
            self.shop_b: [self.hq, self.sub_b, self.shop_b],
        }
        return org_path_of(chains[unit])

    def person(self, role: Role, unit: str, principal_id: str | None = None) -> Identity:
        return Identity(
            principal_id=principal_id or str(uuid.uuid4()),
            tenant_id=self.tenant_id,
            org_unit_id=unit,
            org_path=self.path(unit),
            role=role,
        )


async def start_grpc(
    *,
    service: str,
    verifier: IdentityVerifier,
    registrars: Sequence[Registrar],
    service_names: Sequence[str],
    partners: PartnerCalls | None = None,
) -> GrpcServer:
    server = GrpcServer(
        service=service,
        verifier=verifier,
        registrars=registrars,
        service_names=service_names,
        host="127.0.0.1",
        port=0,
        partners=partners,
    )
    await server.start()
    return server


def channel_to(server: GrpcServer) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
