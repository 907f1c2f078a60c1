// 离职交接: start a transfer, follow it, list them; deactivate a user (with their handover) and
// reactivate one.
import { call, newRequestId, type HandoverInput, type TransferInput } from '@keyuan/shared'
import { api } from '../../app'

export const transfersApi = {
  start: (body: Omit<TransferInput, 'request_id'>) => call(api.POST('/api/v1/transfers', { body: { ...body, request_id: newRequestId() } })),
  get: (id: string) => call(api.GET('/api/v1/transfers/{transfer_id}', { params: { path: { transfer_id: id } } })),
  list: (pageToken = '') => call(api.GET('/api/v1/transfers', { params: { query: { page_size: 50, page_token: pageToken } } })),
  deactivate: (userId: string, handover: HandoverInput | null) =>
    call(api.POST('/api/v1/users/{user_id}/deactivate', { params: { path: { user_id: userId } }, body: { handover } })),
  activate: (userId: string) => call(api.POST('/api/v1/users/{user_id}/activate', { params: { path: { user_id: userId } } })),
}
