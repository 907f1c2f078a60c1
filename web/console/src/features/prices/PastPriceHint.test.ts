import { flushPromises, mount } from '@vue/test-utils'
import { json } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '../../app'
import PastPriceHint from './PastPriceHint.vue'

const GROUP_PRICE = {
  id: 'a1',
  customer_id: 'group',
  customer_name: '华联超市集团',
  product_id: 'p1',
  sku: 'NR-001',
  product_name: '冷冻牛腩',
  unit: '箱',
  price: '250.00',
  list_price: '268.00',
  valid_from: '2026-12-01',
  valid_until: null,
  inherited: true,
  version: 1,
  updated_by: 'u1',
  updated_at: '2026-12-01T10:00:00+08:00',
}

function gateway(answer: Record<string, unknown>) {
  const asked: URL[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      asked.push(new URL(request.url))
      return json(200, { items: [answer] })
    }),
  )
  return asked
}

describe('PastPriceHint', () => {
  afterEach(() => vi.unstubAllGlobals())

  it("shows the group's agreement price and the last prices, and hands a clicked one to the field", async () => {
    const asked = gateway({
      product_id: 'p1',
      list_price: '268.00',
      agreement_price: GROUP_PRICE,
      past_prices: [
        { source: 'quote', document_id: 'q1', number: 'BJ-20261202-0001', date: '2026-12-02', price: '255.00', quantity: '5' },
        { source: 'order', document_id: 'o1', number: 'AB12CD34', date: '2026-11-20', price: '260.00', quantity: '3' },
      ],
    })
    const wrapper = mount(PastPriceHint, { props: { customerId: 'c7', productId: 'p1' }, global: { plugins: [i18n] } })
    await flushPromises()

    expect(asked[0]!.pathname).toBe('/api/v1/past-prices')
    expect(asked[0]!.searchParams.get('customer_id')).toBe('c7')
    expect(asked[0]!.searchParams.getAll('product_id')).toEqual(['p1'])
    const text = wrapper.find('[data-test="past-prices"]').text()
    expect(text).toContain('集团协议价')
    expect(text).toContain('¥250.00')
    expect(text).toContain('¥255.00')
    expect(text).toContain('¥260.00')
    await wrapper.findAll('[data-test="pick-past"]')[1]!.trigger('click')
    await wrapper.find('[data-test="pick-agreement"]').trigger('click')
    expect(wrapper.emitted('pick')).toEqual([['260.00'], ['250.00']])
  })

  it('shows nothing for a product the customer never got and has no agreement for', async () => {
    gateway({ product_id: 'p1', list_price: '268.00', agreement_price: null, past_prices: [] })
    const wrapper = mount(PastPriceHint, { props: { customerId: 'c7', productId: 'p1' }, global: { plugins: [i18n] } })
    await flushPromises()

    expect(wrapper.find('[data-test="past-prices"]').exists()).toBe(false)
  })

  it('asks nothing until both a customer and a product are chosen', async () => {
    const asked = gateway({})
    mount(PastPriceHint, { props: { customerId: '', productId: 'p1' }, global: { plugins: [i18n] } })
    await flushPromises()

    expect(asked).toEqual([])
  })
})
