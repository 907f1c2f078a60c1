"""NATS users of the services: one nkey each, allowed what the component registry says it does.

Every component (the gRPC services and the gateway all run the kit's relay and consumers) gets
its own user. It may
publish its own events and make the JetStream requests its own stream and its consumers need;
it may read the streams of the components it `consumes`, and nothing else. The permissions, and
why each is needed:

  publish  <ns>crm.<svc>.v1.>                   its events (the relay publishes them)
           $JS.API.STREAM.INFO.<STREAM>          `bus.ensure_stream` of its own stream: exists?
           $JS.API.STREAM.CREATE.<STREAM>        ... and creates it (only the producer may)
           for each producer P it consumes:
           $JS.API.CONSUMER.INFO.<P>.*           `pull_subscribe`: does the durable exist?
           $JS.API.CONSUMER.CREATE.<P>.*.<ns>crm.<p>.v1.>   ... create it, filtered to P's events
           $JS.API.CONSUMER.MSG.NEXT.<P>.*       `fetch`: the next batch
           $JS.ACK.<P>.*.>                       ack, nak, term of a delivered message
  subscribe _INBOX.<ns>crm-<svc>.>              replies: JetStream API answers, publish acks and
                                                 fetched messages arrive on the process's inbox

The inbox prefix is the service's own (`bus.connect_service` sets it), so no service can read another's
replies. A pull consumer never subscribes to event subjects: what it may read is decided by the
consumer requests above. The `*` in the consumer subjects is the durable name (one token, which
NATS cannot match by prefix): a service may attach to any durable on a stream it consumes, never
to another stream. Stream updates and deletions, and everything else, are refused.

`python -m crmkit.natsauth --seeds DIR [--namespace NS]` writes a seed per service into DIR
(mode 0600, keeping those already there) and prints the `authorization` block for the NATS
server's configuration; the devstack does the same for its own NATS.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nkeys

from crmkit.components import Component, component, registry
from crmkit.events import stream_name, subject_for

SEED_SUFFIX = ".nk"


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


def nats_users() -> list[Component]:
    """The components that connect to NATS: every one (the gateway publishes `user_changed` and
    consumes customer events since it keeps the notification inbox)."""
    return list(registry().values())


def inbox_prefix(service: str, namespace: str = "") -> str:
    """Where a service's replies arrive; its own, so its permissions can name it."""
    return f"_INBOX.{namespace}crm-{service}"


def permissions(entry: Component, namespace: str = "") -> Permissions:
    own = stream_name(entry.name, namespace)
    publish = [
        subject_for(entry.name, ">", namespace),
        f"$JS.API.STREAM.INFO.{own}",
        f"$JS.API.STREAM.CREATE.{own}",
    ]
    for producer in entry.consumes:
        stream = stream_name(producer, namespace)
        publish += [
            f"$JS.API.CONSUMER.INFO.{stream}.*",
            f"$JS.API.CONSUMER.CREATE.{stream}.*.{subject_for(producer, '>', namespace)}",
            f"$JS.API.CONSUMER.MSG.NEXT.{stream}.*",
            f"$JS.ACK.{stream}.*.>",
        ]
    return Permissions(publish=tuple(publish), subscribe=(f"{inbox_prefix(entry.name, namespace)}.>",))


def new_seed() -> bytes:
    """A fresh nkey user seed (`SU…`)."""
    return bytes(nkeys.encode_seed(secrets.token_bytes(32), nkeys.PREFIX_BYTE_USER))


def public_key(seed: bytes) -> str:
    """The user's public key (`U…`), which is all the server is told."""
    key_pair = nkeys.from_seed(bytearray(seed.strip()))
    try:
        return bytes(key_pair.public_key).decode()
    finally:
        key_pair.wipe()


def seed_file(directory: Path, service: str) -> Path:
    return directory / f"{service}{SEED_SUFFIX}"


def ensure_seeds(directory: Path, services: Iterable[str]) -> dict[str, Path]:
    """A seed file per service in `directory` (0700), created mode 0600 unless already there."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for service in services:
        path = seed_file(directory, service)
        if not path.exists():
            # O_EXCL with the mode: the seed is never readable by others, not even for a moment.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(new_seed() + b"\n")
        files[service] = path
    return files


def public_keys(seed_files: Mapping[str, Path]) -> dict[str, str]:
    return {service: public_key(path.read_bytes()) for service, path in seed_files.items()}


def authorization_block(keys: Mapping[str, str], namespace: str = "") -> str:
    """The nats-server `authorization` block: one nkey user per service with its permissions.
    Every user must be a component of the registry; no other user exists, so a connection
    without one of these keys is refused."""
    lines = ["authorization {", "  users = ["]
    for service, key in keys.items():
        allowed = permissions(component(service), namespace)
        lines += [
            f"    # crm-{service}",
            "    {",
            f"      nkey: {json.dumps(key)}",
            "      permissions: {",
            *_allow_list("publish", allowed.publish),
            *_allow_list("subscribe", allowed.subscribe),
            "      }",
            "    }",
        ]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def _allow_list(kind: str, subjects: Sequence[str]) -> list[str]:
    return [
        f"        {kind}: {{ allow: [",
        ",\n".join(f"          {json.dumps(subject)}" for subject in subjects),
        "        ] }",
    ]


def server_config(*, host: str, port: int, store_dir: Path, authorization: str) -> str:
    """A whole nats-server configuration with JetStream, as the devstack and tests run it."""
    return (
        f"listen: {json.dumps(f'{host}:{port}')}\n"
        f"jetstream {{\n  store_dir: {json.dumps(str(store_dir))}\n}}\n"
        f"{authorization}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m crmkit.natsauth",
        description="Write one NATS nkey seed per service and print the server's authorization block.",
    )
    parser.add_argument("--seeds", type=Path, required=True, help="folder of the seeds (<service>.nk, mode 0600)")
    parser.add_argument(
        "--namespace",
        default=os.environ.get("CRM_EVENT_NAMESPACE", ""),
        help="the deployment's CRM_EVENT_NAMESPACE (default: that variable, else none)",
    )
    args = parser.parse_args(argv)
    files = ensure_seeds(args.seeds, [entry.name for entry in nats_users()])
    sys.stdout.write(authorization_block(public_keys(files), args.namespace))


if __name__ == "__main__":
    main()
