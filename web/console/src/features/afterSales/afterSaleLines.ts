// What an after-sale may still ask for per order line: the delivered quantity less what requested
// and approved after-sales of the line already hold (the order service checks it again), and the
// value of the lines asked for, which is the refund by default. Quantities and money as decimal
// strings, computed in thousandths and fen so no float rounding creeps in.
import type { Order, OrderDelivery } from '@keyuan/shared'
import type { AfterSale } from './api'

const MILLI = 1000

function milli(quantity: string): number {
  const [whole = '0', fraction = ''] = quantity.trim().split('.')
  const sign = whole.startsWith('-') ? -1 : 1
  return sign * (Math.abs(Number(whole)) * MILLI + Number((fraction + '000').slice(0, 3)))
}

function quantityText(value: number): string {
  const whole = Math.trunc(value / MILLI)
  const rest = Math.abs(value % MILLI)
  return rest ? `${whole}.${String(rest).padStart(3, '0').replace(/0+$/, '')}` : String(whole)
}

/** How much of each line reached the customer, as the order service's `deliverable_quantity`
 * reads the confirmation: nothing before delivery or when refused; a partial delivery's listed
 * quantity (an unlisted line came in full); damaged goods were received, so the whole line. */
function deliveredMilli(order: Order, delivery: OrderDelivery | null): Record<number, number> {
  const delivered: Record<number, number> = {}
  const arrived = order.state === 'delivered' || order.state === 'completed'
  const confirmation = delivery?.confirmation
  for (const line of order.lines) delivered[line.line_no] = arrived && confirmation?.exception !== 'refused' ? milli(String(line.quantity)) : 0
  if (arrived && confirmation?.exception === 'partial') {
    for (const line of confirmation.exception_lines) delivered[line.line_no] = milli(String(line.quantity))
  }
  return delivered
}

/** Per order line number, the quantity still open to an after-sale ("0" when none is). */
export function remainingByLine(order: Order, afterSales: readonly AfterSale[], delivery: OrderDelivery | null = null): Record<number, string> {
  const delivered = deliveredMilli(order, delivery)
  const held: Record<number, number> = {}
  for (const afterSale of afterSales) {
    if (afterSale.status === 'rejected') continue
    for (const line of afterSale.lines) held[line.line_no] = (held[line.line_no] ?? 0) + milli(String(line.quantity))
  }
  const remaining: Record<number, string> = {}
  for (const line of order.lines) {
    const open = (delivered[line.line_no] ?? 0) - (held[line.line_no] ?? 0)
    remaining[line.line_no] = quantityText(Math.max(open, 0))
  }
  return remaining
}

/** The value of the quantities asked for at the order's prices, rounded half up to the fen, as "123.45". */
export function linesValue(order: Order, quantities: Record<number, string>): string {
  let fen = 0
  for (const line of order.lines) {
    const asked = quantities[line.line_no]
    if (!asked || !/^\d+(\.\d{1,3})?$/.test(asked.trim())) continue
    const priceFen = Math.round(Number(line.unit_price) * 100)
    fen += Math.round((milli(asked) * priceFen) / MILLI)
  }
  return `${Math.trunc(fen / 100)}.${String(fen % 100).padStart(2, '0')}`
}
