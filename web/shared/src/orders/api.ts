// Catalogue and order calls both apps make (issue 13), and the order's state table as the screens
// need it: which actions a role may offer from a state. Types are the OpenAPI document's.
import { call, type ApiClient } from '../api/client'
import type { components, paths } from '../api/schema'
import type { Role } from '../api/models'
import { newRequestId } from '../customers/api'

type Schemas = components['schemas']

export type Product = Schemas['ProductOut']
export type ProductInput = Schemas['ProductIn']
export type ProductAttributes = Schemas['AttributesOut']
export type Order = Schemas['OrderOut']
export type OrderLine = Schemas['LineOut']
export type OrderInput = Schemas['OrderIn']
export type OrderLineInput = Schemas['LineIn']
export type OrderDetail = Schemas['OrderDetail']
export type OrderRevision = Schemas['RevisionOut']
export type OrderState = Order['state']
export type PaymentMode = Order['payment_mode']
export type OrderAction = paths['/api/v1/orders/{order_id}/{action}']['post']['parameters']['path']['action']
export type OrderQuery = NonNullable<paths['/api/v1/orders']['get']['parameters']['query']>

export const ORDER_STATES: readonly OrderState[] = [
  'draft',
  'confirmed',
  'awaiting_payment',
  'ready_to_ship',
  'dispatched',
  'delivered',
  'completed',
  'cancelled',
]
export const PAYMENT_MODES: readonly PaymentMode[] = ['cod', 'credit']

/** Who may edit the catalogue (the API answers 403 to anyone else). */
export const CATALOGUE_EDITORS: readonly Role[] = ['admin', 'boss']
/** Who may place orders and override a requirement conflict with a reason. */
export const ORDER_PLACERS: readonly Role[] = ['admin', 'boss', 'supervisor', 'sales']
export const REQUIREMENT_OVERRIDERS: readonly Role[] = ['admin', 'boss', 'supervisor']

const SELLING: readonly Role[] = ORDER_PLACERS
const SHIPPING: readonly Role[] = ['admin', 'boss', 'supervisor', 'service']

// The order service's table of moves (crm_order/orders/states.py) as the screens show it: the
// API still decides, this only keeps buttons that would be refused off the page.
const MOVES: { action: OrderAction; from: readonly OrderState[]; modes: readonly PaymentMode[]; roles: readonly Role[] }[] = [
  { action: 'confirm', from: ['draft'], modes: PAYMENT_MODES, roles: SELLING },
  { action: 'release', from: ['confirmed'], modes: PAYMENT_MODES, roles: SELLING },
  { action: 'record_payment', from: ['awaiting_payment'], modes: ['cod'], roles: ['admin', 'boss', 'finance'] },
  { action: 'dispatch', from: ['ready_to_ship'], modes: PAYMENT_MODES, roles: SHIPPING },
  { action: 'deliver', from: ['dispatched'], modes: PAYMENT_MODES, roles: SHIPPING },
  { action: 'complete', from: ['delivered'], modes: PAYMENT_MODES, roles: [...SHIPPING, 'finance'] },
  {
    action: 'cancel',
    from: ['draft', 'confirmed', 'awaiting_payment', 'ready_to_ship'],
    modes: PAYMENT_MODES,
    roles: SELLING,
  },
]

/** The actions `role` may take on `order` now, in the order of the order's life. */
export function availableActions(order: Pick<Order, 'state' | 'payment_mode'>, role: Role | undefined): OrderAction[] {
  if (!role) return []
  return MOVES.filter(
    (move) => move.from.includes(order.state) && move.modes.includes(order.payment_mode) && move.roles.includes(role),
  ).map((move) => move.action)
}

/** Line amount as the API computes it, for the form's running total (to the fen, half up). */
export function lineAmount(quantity: string | number, unitPrice: string | number): number {
  const q = Number(quantity)
  const p = Number(unitPrice)
  if (!Number.isFinite(q) || !Number.isFinite(p)) return 0
  // whole fen, avoiding binary drift (1.005 → 1.01)
  return Math.round(Number((q * p * 100).toFixed(6))) / 100
}

export const productsApi = (client: ApiClient) => ({
  list: (q = '', options: { category?: string; includeInactive?: boolean; pageToken?: string } = {}) =>
    call(
      client.GET('/api/v1/products', {
        params: {
          query: {
            q,
            category: options.category ?? '',
            include_inactive: options.includeInactive ?? false,
            page_size: 100,
            page_token: options.pageToken ?? '',
          },
        },
      }),
    ),
  get: (id: string) => call(client.GET('/api/v1/products/{product_id}', { params: { path: { product_id: id } } })),
  upsert: (sku: string, body: ProductInput) =>
    call(client.PUT('/api/v1/products/by-sku/{sku}', { params: { path: { sku } }, body })),
})

export const ordersApi = (client: ApiClient) => ({
  list: (query: OrderQuery = {}) => call(client.GET('/api/v1/orders', { params: { query: { page_size: 50, ...query } } })),
  get: (id: string) => call(client.GET('/api/v1/orders/{order_id}', { params: { path: { order_id: id } } })),
  create: (body: Omit<OrderInput, 'request_id'>, requestId: string = newRequestId()) =>
    call(client.POST('/api/v1/orders', { body: { ...body, request_id: requestId } })),
  move: (id: string, action: OrderAction, body: { expected_version?: number; reason?: string } = {}) =>
    call(client.POST('/api/v1/orders/{order_id}/{action}', { params: { path: { order_id: id, action } }, body })),
})

export type ProductsApi = ReturnType<typeof productsApi>
export type OrdersApi = ReturnType<typeof ordersApi>
