// 公海 calls both apps make (issue 11): pools and their customers, claims and their decisions,
// releasing a customer, and a customer's ownership history.
import { call, type ApiClient } from '../api/client'
import type { ClaimStatus, ClaimView, DecisionInput, ReleaseInput } from '../api/models'
import { newRequestId } from '../customers/api'

export const poolsApi = (client: ApiClient) => ({
  list: () => call(client.GET('/api/v1/pools')),
  customers: (poolId: string, pageToken = '') =>
    call(
      client.GET('/api/v1/pools/{pool_id}/customers', {
        params: { path: { pool_id: poolId }, query: { page_size: 50, page_token: pageToken } },
      }),
    ),
  claim: (poolId: string, customerId: string, reason: string) =>
    call(
      client.POST('/api/v1/pools/{pool_id}/claims', {
        params: { path: { pool_id: poolId } },
        body: { customer_id: customerId, reason: reason.trim(), request_id: newRequestId() },
      }),
    ),
  claims: (view: ClaimView, status?: ClaimStatus) =>
    call(client.GET('/api/v1/pool-claims', { params: { query: { view, status: status ?? null, page_size: 100 } } })),
  decide: (claimId: string, body: DecisionInput) =>
    call(client.POST('/api/v1/pool-claims/{claim_id}/decision', { params: { path: { claim_id: claimId } }, body })),
  withdraw: (claimId: string) =>
    call(client.POST('/api/v1/pool-claims/{claim_id}/withdraw', { params: { path: { claim_id: claimId } } })),
  release: (customerId: string, body: ReleaseInput) =>
    call(client.POST('/api/v1/customers/{customer_id}/release', { params: { path: { customer_id: customerId } }, body })),
  ownerChanges: (customerId: string) =>
    call(
      client.GET('/api/v1/customers/{customer_id}/owner-changes', {
        params: { path: { customer_id: customerId }, query: { page_size: 100 } },
      }),
    ),
})

export type PoolsApi = ReturnType<typeof poolsApi>
