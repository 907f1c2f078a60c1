// What admins and bosses set for ownership: pools and their rules, and how many customers each
// person may hold. (Browsing and claiming from pools is the shared poolsApi.)
import { call, type CustomerCapsInput, type PoolInput, type PoolPatch } from '@keyuan/shared'
import { api } from '../../app'

export const ownershipSettingsApi = {
  createPool: (body: PoolInput) => call(api.POST('/api/v1/pools', { body })),
  updatePool: (poolId: string, body: PoolPatch) =>
    call(api.PUT('/api/v1/pools/{pool_id}', { params: { path: { pool_id: poolId } }, body })),
  caps: () => call(api.GET('/api/v1/customer-caps')),
  setCaps: (body: CustomerCapsInput) => call(api.PUT('/api/v1/customer-caps', { body })),
}
