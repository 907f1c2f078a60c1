import type { OrderDelivery } from '@keyuan/shared'
import { describe, expect, it } from 'vitest'
import { order as orderFixture } from '../orders/fixtures'
import { linesValue, remainingByLine } from './afterSaleLines'
import { afterSaleFixture } from './fixtures'

const line = orderFixture().lines[0]!
const asked = afterSaleFixture().lines[0]!
const order = orderFixture({
  state: 'delivered',
  lines: [
    { ...line, line_no: 1, quantity: '4', unit_price: '268.00' },
    { ...line, line_no: 2, quantity: '10', unit_price: '6.55' },
  ],
})

/** The order's delivery, confirmed with `exception` and its lines (line number → quantity). */
function confirmed(exception: 'partial' | 'refused' | 'damaged' | null, lines: Record<number, string> = {}): OrderDelivery {
  const exception_lines = Object.entries(lines).map(([lineNo, quantity]) => ({ line_no: Number(lineNo), quantity, note: '' }))
  const at = '2026-12-08T07:20:00+08:00'
  return {
    order_id: order.id,
    dispatch: null,
    confirmation: { signed_by: '李阿姨', signed_at: at, photo_id: '', exception, exception_reason: '', exception_lines, confirmed_by: 'u1', confirmed_at: at },
    photos: [],
  }
}

describe('what an after-sale may still ask for', () => {
  it('is the delivered quantity less requested and approved after-sales, not rejected ones', () => {
    const earlier = [
      afterSaleFixture({ status: 'requested', lines: [{ ...asked, line_no: 2, quantity: '2.5' }] }),
      afterSaleFixture({ status: 'approved', lines: [{ ...asked, line_no: 1, quantity: '1' }] }),
      afterSaleFixture({ status: 'rejected', lines: [{ ...asked, line_no: 1, quantity: '3' }] }),
    ]
    expect(remainingByLine(order, earlier)).toEqual({ 1: '3', 2: '7.5' })
  })

  it('reads the delivery as the order service does: partial as listed, refused nothing, damaged whole', () => {
    const earlier = [afterSaleFixture({ status: 'requested', lines: [{ ...asked, line_no: 1, quantity: '1' }] })]
    expect(remainingByLine(order, earlier, confirmed('partial', { 1: '2.5' }))).toEqual({ 1: '1.5', 2: '10' })
    expect(remainingByLine(order, [], confirmed('refused'))).toEqual({ 1: '0', 2: '0' })
    expect(remainingByLine(order, [], confirmed('damaged', { 1: '1' }))).toEqual({ 1: '4', 2: '10' })
  })

  it('is nothing on an order not yet delivered', () => {
    expect(remainingByLine({ ...order, state: 'dispatched' }, [])).toEqual({ 1: '0', 2: '0' })
  })

  it('values the quantities at the order prices to the fen', () => {
    expect(linesValue(order, { 1: '1', 2: '0.333' })).toBe('270.18')
    expect(linesValue(order, { 1: '', 2: 'abc' })).toBe('0.00')
  })
})
