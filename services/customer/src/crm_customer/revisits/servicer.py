"""gRPC edge of revisit plans and tasks: validate, call the service, commit, map."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import revisits_pb2 as rpb
from crm_customer.follow_ups.models import Interaction, interaction_to_proto
from crm_customer.preferences.service import add_requirements
from crm_customer.revisits import service, validation
from crm_customer.revisits.models import RevisitTask, plan_to_proto, task_to_proto
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.errors import NotFound
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier, text


class RevisitRpcs(CustomerServicerBase):
    """GetRevisitPlans, SetRevisitPlans, ListRevisitTasks, ListCustomerRevisits, CompleteRevisitTask."""

    async def GetRevisitPlans(
        self, request: rpb.GetRevisitPlansRequest, context: RpcContext
    ) -> rpb.GetRevisitPlansResponse:
        async with self._reads() as session:
            plans = await service.plans_of(session, tenant_id=current_identity().tenant_id)
        return rpb.GetRevisitPlansResponse(plans=[plan_to_proto(tier, plan) for tier, plan in plans.items()])

    async def SetRevisitPlans(
        self, request: rpb.SetRevisitPlansRequest, context: RpcContext
    ) -> rpb.SetRevisitPlansResponse:
        plans = validation.plans(request.plans)
        async with self._writes.transaction() as session:
            saved = await service.set_plans(session, identity=current_identity(), plans=plans)
        return rpb.SetRevisitPlansResponse(plans=[plan_to_proto(tier, plan) for tier, plan in saved.items()])

    async def ListRevisitTasks(
        self, request: rpb.ListRevisitTasksRequest, context: RpcContext
    ) -> rpb.ListRevisitTasksResponse:
        first, last = validation.due_window(request.due, self._clock())
        query = service.TaskQuery(
            first=first,
            last=last,
            mine=request.mine,
            assignee_id=identifier(request.assignee_id, "assignee_id", required=False) or None,
            org_unit_id=identifier(request.org_unit_id, "org_unit_id", required=False) or None,
        )
        size = page_size(request.page_size)
        identity = current_identity()
        async with self._reads() as session:
            rows, token = await service.list_tasks(
                session, identity=identity, query=query, page_size=size, page_token=request.page_token
            )
            response = rpb.ListRevisitTasksResponse(
                tasks=[task_to_proto(task, name) for task, name in rows], next_page_token=token
            )
            await _add_task_requirements(session, identity.tenant_id, response.tasks)
        return response

    async def ListCustomerRevisits(
        self, request: rpb.ListCustomerRevisitsRequest, context: RpcContext
    ) -> rpb.ListCustomerRevisitsResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        size = page_size(request.page_size)
        identity = current_identity()
        async with self._reads() as session:
            tasks, token, name = await service.customer_revisits(
                session,
                identity=identity,
                customer_id=customer_id,
                page_size=size,
                page_token=request.page_token,
                now=self._clock(),
            )
            response = rpb.ListCustomerRevisitsResponse(
                tasks=[task_to_proto(task, name) for task in tasks], next_page_token=token
            )
            await _add_task_requirements(session, identity.tenant_id, response.tasks)
        return response

    async def CompleteRevisitTask(
        self, request: rpb.CompleteRevisitTaskRequest, context: RpcContext
    ) -> rpb.CompleteRevisitTaskResponse:
        request_id = text(request.request_id, "request_id", max_len=64)
        task_id = identifier(request.task_id, "task_id")
        completion = validation.completion(request, self._clock())
        identity = current_identity()

        async def complete(session: AsyncSession) -> tuple[str, rpb.CompleteRevisitTaskResponse]:
            task, interaction, name = await service.complete_task(
                session,
                identity=identity,
                task_id=task_id,
                completion=completion,
                events=self._events,
                now=self._clock(),
            )
            answer = rpb.CompleteRevisitTaskResponse(
                task=task_to_proto(task, name), interaction=interaction_to_proto(interaction)
            )
            await _add_task_requirements(session, identity.tenant_id, [answer.task])
            return task.id, answer

        async def replay(session: AsyncSession, completed_id: str) -> rpb.CompleteRevisitTaskResponse:
            task = await session.get(RevisitTask, completed_id)
            if task is None or task.id != task_id or task.interaction_id is None:
                raise NotFound("revisit task", task_id)
            interaction = await session.get(Interaction, task.interaction_id)
            if interaction is None:
                raise NotFound("revisit task", task_id)
            answer = rpb.CompleteRevisitTaskResponse(
                task=task_to_proto(task), interaction=interaction_to_proto(interaction)
            )
            await _add_task_requirements(session, identity.tenant_id, [answer.task])
            return answer

        return await self._writes.create_once(identity=identity, request_id=request_id, create=complete, replay=replay)


async def _add_task_requirements(session: AsyncSession, tenant_id: str, tasks: Sequence[rpb.RevisitTask]) -> None:
    await add_requirements(session, tenant_id=tenant_id, rows=tasks, customer_id=lambda task: task.customer_id)
