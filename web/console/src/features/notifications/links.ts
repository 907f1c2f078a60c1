// Where a notification leads in the console: its customer, the 公海 claims (待我审批 for a
// supervisor asked to decide, 我的申请 for the claimant), the transfer's progress page, or the
// import's page, or the quote (to decide it, or to see its decision), or the recalled batch.
import { TRANSFER_ROLES, type Notification, type Role } from '@keyuan/shared'
import type { RouteLocationRaw } from 'vue-router'

export function notificationRoute(notification: Notification, role: Role | undefined): RouteLocationRaw {
  switch (notification.link_type) {
    case 'customer':
      return { name: 'customer', params: { id: notification.link_id } }
    case 'claim':
      return { name: 'pools', query: { tab: notification.kind === 'pool_claim_submitted' ? 'to_decide' : 'mine' } }
    case 'transfer':
      // A receiving rep may not open transfers: their new customers are in their list.
      return role && TRANSFER_ROLES.includes(role)
        ? { name: 'transfer', params: { id: notification.link_id } }
        : { name: 'customers' }
    case 'quote':
      return { name: 'quote', params: { id: notification.link_id } }
    case 'recall':
      // An owner told of a recall: the batch's customers with the contacts to call.
      return { name: 'batches', query: { recall: notification.link_id } }
    case 'after_sale':
      return { name: 'after-sale', params: { id: notification.link_id } }
    case 'order':
      // An urgent order for the dispatcher to dispatch.
      return { name: 'order', params: { id: notification.link_id } }
    case 'customer_import':
      // Only the importer is told: the import's own page (its report, progress or result).
      return { name: 'customer-import', params: { id: notification.link_id } }
  }
}
