// An after-sale as the gateway sends it, for the after-sale screens' tests.
import type { AfterSale } from './api'

export function afterSaleFixture(over: Partial<AfterSale> = {}): AfterSale {
  return {
    id: 'a1',
    number: 'SH-20261203-0001',
    order_id: 'o1',
    customer_id: 'c1',
    customer_name: '杭州实验小学食堂',
    owner_id: 'u1',
    org_unit_id: 'ou1',
    type: 'return_refund',
    status: 'requested',
    lines: [
      {
        line_no: 1,
        product_id: 'p1',
        sku: 'NR-001',
        product_name: '冷冻牛腩',
        unit: '公斤',
        quantity: '2',
        unit_price: '68.5',
        amount: '137',
        unit_cost: null,
      },
    ],
    reason: '外包装破损',
    lines_amount: '137',
    refund_amount: '137',
    cost_amount: null,
    photos: [],
    reissue_invoice: false,
    requested_by: 'u1',
    requested_by_name: '赵丽',
    approval: null,
    shipment_order_id: null,
    version: 1,
    // 02:30 UTC is 10:30 in Shanghai
    created_at: '2026-12-03T02:30:00Z',
    updated_at: '2026-12-03T02:30:00Z',
    ...over,
  }
}
