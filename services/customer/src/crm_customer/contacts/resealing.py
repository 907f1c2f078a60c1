"""Key rotation's third step (`crmkit.pii`): re-seal every contact's details under the current key.

`python -m crm_customer reseal [BATCH_SIZE]` walks the contacts in id order, one transaction per
batch, and re-seals those sealed under an older key. Reads keep working throughout: every key is
still in the keyring, and each value names the key that sealed it. Blind indexes do not change.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import func, select

from crm_customer.contacts.models import Contact
from crm_customer.contacts.personal import PersonalData
from crmkit.db import SessionFactory, create_engine, session_factory
from crmkit.runtime import load_keyring
from crmkit.settings import ServiceSettings

log = logging.getLogger(__name__)

DEFAULT_BATCH = 500


async def reseal_contacts(sessions: SessionFactory, personal: PersonalData, *, batch_size: int = DEFAULT_BATCH) -> int:
    """Re-seal, batch by batch, the contacts not sealed under the current key; how many were."""
    resealed, after = 0, ""
    while True:
        async with sessions() as session, session.begin():
            # Locked, so an edit of the same contact waits and then writes its own fresh values.
            query = select(Contact).where(Contact.id > after).order_by(Contact.id).limit(batch_size)
            batch = (await session.scalars(query.with_for_update())).all()
            for contact in batch:
                if not personal.is_current(contact):
                    personal.seal(contact, personal.details(contact))
                    resealed += 1
        if len(batch) < batch_size:
            return resealed
        after = batch[-1].id
        log.info("resealed %d contacts so far (up to id %s)", resealed, after)


async def keys_in_use(sessions: SessionFactory) -> dict[str, int]:
    """How many contacts each key id sealed: a key may be retired once it is not here."""
    async with sessions() as session:
        rows = await session.execute(
            select(Contact.key_id, func.count()).where(Contact.key_id.is_not(None)).group_by(Contact.key_id)
        )
        return {str(key_id): int(count) for key_id, count in rows.all()}


async def reseal_command(settings: ServiceSettings, args: Sequence[str]) -> None:
    keyring = load_keyring(settings)
    if keyring is None:
        raise SystemExit("no personal-data keyring configured (CRM_CUSTOMER_PERSONAL_DATA_KEYS_FILE)")
    batch_size = int(args[0]) if args else DEFAULT_BATCH
    engine = create_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        resealed = await reseal_contacts(sessions, PersonalData(keyring), batch_size=batch_size)
        in_use = await keys_in_use(sessions)
    finally:
        await engine.dispose()
    print(f"resealed {resealed} contacts under key {keyring.key_id}")
    for key_id, count in sorted(in_use.items()):
        print(f"key {key_id}: {count} contacts")
