"""What the customer service serves; the kit runs it."""

from __future__ import annotations

from crm_customer.attachments.service import UploadPolicy
from crm_customer.collaborators.expiry import collaborator_expiry_job
from crm_customer.contacts.personal import PersonalData
from crm_customer.contacts.resealing import reseal_command
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.fast_reads import FastCustomerReads
from crm_customer.directory.service import DIRECTORY_SUBSCRIPTION
from crm_customer.follow_ups.reminders import follow_up_reminder_job
from crm_customer.imports.job import import_job
from crm_customer.licences.expiry import licence_expiry_job
from crm_customer.models import Base
from crm_customer.pools.last_orders import LAST_ORDERS
from crm_customer.pools.sweep import pool_sweep_job
from crm_customer.revisits.job import revisit_job
from crm_customer.servicer import CustomerServicer
from crm_customer.settings import CustomerSettings
from crm_customer.transfers.job import transfer_job
from crmkit.runtime import ServiceRuntime
from crmkit.service import ServiceSpec
from crmkit.storage import open_object_storage


def servicer_for(runtime: ServiceRuntime) -> CustomerServicer:
    if runtime.keyring is None:
        raise RuntimeError("the customer service keeps personal data: the registry must mark it personal_data")
    personal = PersonalData(runtime.keyring)
    settings = runtime.settings
    if not isinstance(settings, CustomerSettings):
        raise RuntimeError("the customer service runs on CustomerSettings (SPEC.settings)")
    fast_reads = None
    if runtime.engine.url.get_backend_name() == "postgresql":
        # GetCustomer and search pages straight on asyncpg (customers/fast_reads.py).
        fast_reads = FastCustomerReads(runtime.engine.url, personal)
        runtime.on_close.append(fast_reads.close)
    return CustomerServicer(
        sessions=runtime.sessions,
        read_sessions=runtime.read_sessions,
        events=CustomerEvents(tables=runtime.tables, namespace=runtime.namespace),
        personal=personal,
        relay=runtime.relay,
        fast_reads=fast_reads,
        clock=runtime.clock,
        storage=open_object_storage(settings.storage),
        upload_policy=UploadPolicy(max_bytes=settings.attachment_max_bytes, thumbnail_px=settings.thumbnail_px),
    )


SPEC = ServiceSpec(
    name="customer",
    metadata=Base.metadata,
    servicers=[servicer_for],
    settings=CustomerSettings,
    subscriptions=[DIRECTORY_SUBSCRIPTION, LAST_ORDERS],
    jobs=[
        pool_sweep_job,
        collaborator_expiry_job,
        transfer_job,
        follow_up_reminder_job,
        licence_expiry_job,
        revisit_job,
        import_job,
    ],
    commands={"reseal": reseal_command},
)
