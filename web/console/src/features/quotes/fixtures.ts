// A quote as the gateway sends it, for the quote screens' tests.
import type { Quote } from './api'

export function quoteFixture(over: Partial<Quote> = {}): Quote {
  return {
    id: 'q1',
    number: 'BJ-20261203-0001',
    customer_id: 'c7',
    customer_name: '西湖区实验小学食堂',
    owner_id: 'u1',
    org_unit_id: 'o1',
    status: 'draft',
    lines: [
      {
        line_no: 1,
        product_id: 'p1',
        sku: 'NR-001',
        product_name: '冷冻牛腩',
        specification: '5kg/箱',
        unit: '箱',
        quantity: '10.000',
        list_price: '100.00',
        quoted_price: '95.00',
        amount: '950.00',
        discount_rate: '95.00',
        unit_cost: null,
      },
    ],
    list_total: '1000.00',
    total_amount: '950.00',
    discount_rate: '95.00',
    lowest_line_rate: '95.00',
    approval_threshold: '90.00',
    needs_approval: false,
    margin: null,
    valid_until: '2026-12-31',
    notes: '',
    approval: null,
    submitted_by: '',
    submitted_at: null,
    order_id: null,
    version: 3,
    created_by: 'u1',
    created_at: '2026-12-03T10:00:00+08:00',
    updated_at: '2026-12-03T10:00:00+08:00',
    ...over,
  }
}
