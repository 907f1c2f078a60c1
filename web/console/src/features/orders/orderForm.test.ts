import { describe, expect, it } from 'vitest'
import { checkOrder, lineDraft, orderBody, orderDraft } from './orderForm'

describe('checkOrder', () => {
  it('asks for a customer, a product per line, a positive quantity and a date from today', () => {
    const draft = orderDraft('', '2026-12-01')
    draft.lines = [lineDraft('', '0'), lineDraft('p1', '1.2345')]
    expect(Object.fromEntries(Object.entries(checkOrder(draft, '2026-12-03')).map(([k, v]) => [k, v.key]))).toEqual({
      customer_id: 'orders.form.customerRequired',
      'lines[0].product_id': 'orders.form.productRequired',
      'lines[0].quantity': 'orders.form.quantityInvalid',
      'lines[1].quantity': 'orders.form.quantityInvalid',
      delivery_date: 'orders.form.dateInPast',
    })
  })

  it('passes a complete order and sends quantities as written', () => {
    const draft = orderDraft('c1', '2026-12-04')
    draft.lines = [lineDraft('p1', ' 2.5 ')]
    expect(checkOrder(draft, '2026-12-03')).toEqual({})
    expect(orderBody(draft)).toMatchObject({ customer_id: 'c1', payment_mode: 'cod', lines: [{ product_id: 'p1', quantity: '2.5' }] })
  })
})
