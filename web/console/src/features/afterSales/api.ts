// The after-sale (售后) calls of the console: list with filters, read, request on an order with
// photos, decide.
import { call, newRequestId, type ApiClient, type components, type paths, type Role } from '@keyuan/shared'

type Schemas = components['schemas']

export type AfterSale = Schemas['AfterSaleOut']
export type AfterSaleLine = Schemas['AfterSaleLineOut']
export type AfterSaleStatus = AfterSale['status']
export type AfterSaleType = AfterSale['type']
export type AfterSaleInput = Schemas['AfterSaleIn']
export type AfterSaleDecision = Schemas['AfterSaleDecisionIn']['decision']
export type AfterSaleQuery = NonNullable<paths['/api/v1/after-sales']['get']['parameters']['query']>

export const AFTER_SALE_STATUSES: readonly AfterSaleStatus[] = ['requested', 'approved', 'rejected']
export const AFTER_SALE_TYPES: readonly AfterSaleType[] = ['return_refund', 'refund_only', 'exchange', 'reissue']
/** Types that refund money; the others ship the goods again on a new order. */
export const REFUNDING: readonly AfterSaleType[] = ['return_refund', 'refund_only']
/** Who may ask for an after-sale, and who may decide one (the order service's REQUESTERS and APPROVERS). */
export const AFTER_SALE_REQUESTER_ROLES: readonly Role[] = ['admin', 'boss', 'supervisor', 'sales', 'service']
/** Who sees the after-sales pages: the requesters, the approvers and finance (refunds, invoices). */
export const AFTER_SALE_VIEW_ROLES: readonly Role[] = ['admin', 'boss', 'supervisor', 'sales', 'service', 'finance']
export const AFTER_SALE_APPROVER_ROLES: readonly Role[] = ['admin', 'boss', 'supervisor']
/** Order states whose goods have reached the customer. */
export const AFTER_DELIVERY = ['delivered', 'completed'] as const

export const afterSalesApi = (client: ApiClient) => ({
  list: (query: AfterSaleQuery) =>
    call(client.GET('/api/v1/after-sales', { params: { query: { page_size: 50, ...query } } })),
  get: (id: string) =>
    call(client.GET('/api/v1/after-sales/{after_sale_id}', { params: { path: { after_sale_id: id } } })),
  request: (orderId: string, body: Omit<AfterSaleInput, 'request_id'>) =>
    call(
      client.POST('/api/v1/orders/{order_id}/after-sales', {
        params: { path: { order_id: orderId } },
        body: { ...body, request_id: newRequestId() },
      }),
    ),
  uploadPhoto: (orderId: string, file: File) =>
    call(
      client.POST('/api/v1/orders/{order_id}/after-sale-photos', {
        params: { path: { order_id: orderId } },
        body: { file: '' },
        bodySerializer: () => {
          const form = new FormData()
          form.append('file', file, file.name)
          return form
        },
      }),
    ),
  /** Links an <img> may open without the Authorization header (the photo is a file of the order's customer). */
  photoLinks: (photoId: string) =>
    call(client.POST('/api/v1/attachments/{attachment_id}/signed-urls', { params: { path: { attachment_id: photoId } }, body: {} })),
  decide: (id: string, decision: AfterSaleDecision, comment: string, version: number) =>
    call(
      client.POST('/api/v1/after-sales/{after_sale_id}/decision', {
        params: { path: { after_sale_id: id } },
        body: { decision, comment: comment.trim(), expected_version: version },
      }),
    ),
})

export type AfterSalesApi = ReturnType<typeof afterSalesApi>
