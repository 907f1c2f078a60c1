// Orders as the gateway answers them, for the order views' tests.
import type { Order, OrderRevision } from '@keyuan/shared'

export function order(extra: Partial<Order> = {}): Order {
  return {
    id: 'o1',
    customer_id: 'c1',
    customer_name: '杭州实验小学食堂',
    owner_id: 'u1',
    org_unit_id: 'ou1',
    payment_mode: 'cod',
    state: 'draft',
    lines: [
      {
        line_no: 1,
        product_id: 'p1',
        sku: 'NR-001',
        product_name: '冷冻牛腩',
        unit: '公斤',
        quantity: '10',
        unit_price: '68.5',
        amount: '685',
        tax_rate: '0.09',
        unit_cost: null,
      },
    ],
    total_amount: '1685.5',
    margin: null,
    delivery_date: '2026-12-08',
    delivery_address: '杭州市西湖区文三路 1 号',
    notes: '',
    urgent: false,
    warnings: [],
    overrides: [],
    version: 1,
    created_by: 'u1',
    // 02:30 UTC is 10:30 in Shanghai
    created_at: '2026-12-03T02:30:00Z',
    updated_at: '2026-12-03T02:30:00Z',
    paid_at: null,
    cancel_reason: '',
    ...extra,
  }
}

export function revision(extra: Partial<OrderRevision> = {}): OrderRevision {
  return {
    id: 'r1',
    version: 2,
    actor_id: 'u1',
    reason: '客户加量',
    diff: { delivery_date: { before: '2026-12-08', after: '2026-12-09' } },
    created_at: '2026-12-03T03:00:00Z',
    ...extra,
  }
}
