"""The harness itself: a sales rep can create and read back a customer."""

from __future__ import annotations

from crm.customer.v1 import customer_pb2 as pb
from crmkit.identity import Role


async def test_sales_rep_reads_back_the_customer_they_created(customer_service) -> None:  # type: ignore[no-untyped-def]
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    md = customer_service.keys.metadata(rep)
    created = await customer_service.stub.CreateCustomer(
        pb.CreateCustomerRequest(request_id="r-1", customer=pb.Customer(name="杭州市西湖区实验小学食堂")), metadata=md
    )
    fetched = await customer_service.stub.GetCustomer(pb.GetCustomerRequest(id=created.customer.id), metadata=md)
    assert fetched.customer.name == "杭州市西湖区实验小学食堂"
    assert fetched.customer.owner_id == rep.principal_id
