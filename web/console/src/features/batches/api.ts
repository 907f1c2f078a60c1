// Batch recall (批次追溯) calls of the console: who received a batch (with the contacts to call),
// raising its recall, and the recalls so far.
import { call, type ApiClient, type components, type Role } from '@keyuan/shared'

type Schemas = components['schemas']

export type BatchLookup = Schemas['BatchLookupOut']
export type BatchCustomer = Schemas['BatchCustomerOut']
export type Recall = Schemas['RecallOut']

/** Who may raise a recall (the order service's RECALLERS). */
export const RECALL_ROLES: readonly Role[] = ['admin', 'boss', 'supervisor']
/** As the gateway takes them: letters, digits and - _ . ; up to 64. */
export const BATCH_NO = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export const batchesApi = (client: ApiClient) => ({
  lookup: (batchNo: string) => call(client.GET('/api/v1/batches/{batch_no}', { params: { path: { batch_no: batchNo } } })),
  recall: (batchNo: string, reason: string) =>
    call(client.POST('/api/v1/batches/{batch_no}/recall', { params: { path: { batch_no: batchNo } }, body: { reason: reason.trim() } })),
  recalls: (query: { batch_no?: string; recall_id?: string; page_token?: string } = {}) =>
    call(client.GET('/api/v1/recalls', { params: { query: { page_size: 50, ...query } } })),
})
