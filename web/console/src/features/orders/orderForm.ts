// The order form's draft, its checks (as the gateway's OrderIn checks them) and the body it
// sends: quantities as strings with at most three decimals, never floats.
import type { FieldMessage, OrderInput, PaymentMode } from '@keyuan/shared'

export interface LineDraft {
  /** Stable key for the list; the API numbers lines itself. */
  key: number
  product_id: string
  quantity: string
}

export interface OrderDraft {
  customer_id: string
  lines: LineDraft[]
  delivery_date: string
  payment_mode: PaymentMode
  urgent: boolean
  delivery_address: string
  notes: string
  override_reason: string
}

let nextKey = 1
export const lineDraft = (product_id = '', quantity = '1'): LineDraft => ({ key: nextKey++, product_id, quantity })

export function orderDraft(customerId = '', deliveryDate = ''): OrderDraft {
  return {
    customer_id: customerId,
    lines: [lineDraft()],
    delivery_date: deliveryDate,
    payment_mode: 'cod',
    urgent: false,
    delivery_address: '',
    notes: '',
    override_reason: '',
  }
}

/** The fields the form shows inputs for, by API name, lines included. */
export function orderFields(draft: OrderDraft): string[] {
  return [
    'customer_id',
    'lines',
    ...draft.lines.flatMap((_, i) => [`lines[${i}].product_id`, `lines[${i}].quantity`]),
    'delivery_date',
    'payment_mode',
    'urgent',
    'delivery_address',
    'notes',
    'override_reason',
  ]
}

const QUANTITY = /^\d{1,9}(\.\d{1,3})?$/

/** Our checks before asking the API; `today` is Shanghai's YYYY-MM-DD. */
export function checkOrder(draft: OrderDraft, today: string): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  if (!draft.customer_id) found.customer_id = { key: 'orders.form.customerRequired' }
  if (!draft.lines.length) found.lines = { key: 'orders.form.linesRequired' }
  draft.lines.forEach((line, i) => {
    if (!line.product_id) found[`lines[${i}].product_id`] = { key: 'orders.form.productRequired' }
    const quantity = line.quantity.trim()
    if (!QUANTITY.test(quantity) || Number(quantity) <= 0) found[`lines[${i}].quantity`] = { key: 'orders.form.quantityInvalid' }
  })
  if (!draft.delivery_date) found.delivery_date = { key: 'orders.form.dateRequired' }
  else if (draft.delivery_date < today) found.delivery_date = { key: 'orders.form.dateInPast' }
  return found
}

export function orderBody(draft: OrderDraft): Omit<OrderInput, 'request_id'> {
  return {
    customer_id: draft.customer_id,
    payment_mode: draft.payment_mode,
    lines: draft.lines.map((line) => ({ product_id: line.product_id, quantity: line.quantity.trim() })),
    delivery_date: draft.delivery_date,
    delivery_address: draft.delivery_address.trim(),
    notes: draft.notes.trim(),
    urgent: draft.urgent,
    override_reason: draft.override_reason.trim(),
  }
}
