// Follow-up calls both apps make (issue 11): a customer's timeline, logging and editing an entry,
// and the due lists the next follow-up dates become.
import { call, type ApiClient } from '../api/client'
import type { FollowUpDue, FollowUpInput, FollowUpKind, FollowUpPatch } from '../api/models'

export const followUpsApi = (client: ApiClient) => ({
  list: (customerId: string, pageToken = '', kind?: FollowUpKind) =>
    call(
      client.GET('/api/v1/customers/{customer_id}/follow-ups', {
        params: { path: { customer_id: customerId }, query: { page_size: 50, page_token: pageToken, ...(kind ? { kind } : {}) } },
      }),
    ),
  log: (customerId: string, body: FollowUpInput) =>
    call(client.POST('/api/v1/customers/{customer_id}/follow-ups', { params: { path: { customer_id: customerId } }, body })),
  edit: (customerId: string, followUpId: string, body: FollowUpPatch) =>
    call(
      client.PATCH('/api/v1/customers/{customer_id}/follow-ups/{follow_up_id}', {
        params: { path: { customer_id: customerId, follow_up_id: followUpId } },
        body,
      }),
    ),
  tasks: (due: FollowUpDue, pageToken = '') =>
    call(client.GET('/api/v1/follow-up-tasks', { params: { query: { due, page_size: 100, page_token: pageToken } } })),
})

export type FollowUpsApi = ReturnType<typeof followUpsApi>
