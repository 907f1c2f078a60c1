import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../../app'
import PlaceOrderView from './PlaceOrderView.vue'

const customer = {
  id: 'c1',
  name: '杭州回民中学食堂',
  type: '学校食堂',
  tags: [],
  addresses: [],
  contacts: [],
  alerts: [],
  special_requirements: [{ kind: 'halal', label: '清真', details: [], details_label: '', note: '' }],
}
const product = (id: string, sku: string, name: string, halal: boolean) => ({
  id,
  sku,
  name,
  category: '',
  specification: '5kg/箱',
  unit: '箱',
  list_price: '120',
  cost: null,
  tax_rate: '0',
  attributes: { halal, organic: false, contains_pork: !halal, cold_chain: false, allergens: [] },
  active: true,
  version: 1,
  created_at: '2026-12-01T10:00:00+08:00',
  updated_at: '2026-12-01T10:00:00+08:00',
})

function gateway(onCreate: (body: Record<string, unknown>) => Response) {
  const created: Record<string, unknown>[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname
      if (path === '/api/v1/customers') return json(200, { items: [customer], next_page_token: null })
      if (path === '/api/v1/customers/c1') return json(200, customer)
      if (path === '/api/v1/products') {
        return json(200, { items: [product('p1', 'NR-001', '清真牛腩', true), product('p2', 'ZR-002', '猪肉馅', false)], next_page_token: null })
      }
      if (path === '/api/v1/orders' && request.method === 'POST') {
        const body = (await request.json()) as Record<string, unknown>
        created.push(body)
        return onCreate(body)
      }
      return problem(404, 'not_found', 'nope')
    }),
  )
  return created
}

async function mountView() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/orders/new', name: 'order-new', component: PlaceOrderView },
      { path: '/orders', name: 'orders', component: { template: '<p>list</p>' } },
    ],
  })
  await router.push('/orders/new')
  const wrapper = mount(PlaceOrderView, { global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router }
}

const errorBeside = (wrapper: VueWrapper, selector: string) =>
  wrapper.find(selector).element.closest('.van-field')?.querySelector('.van-field__error-message')?.textContent?.trim() ?? ''

async function throughSteps(wrapper: VueWrapper, sku: string) {
  await wrapper.find('[data-test="order-customer-c1"]').trigger('click')
  await flushPromises()
  await wrapper.find(`[data-test="order-product-${sku}"]`).trigger('click')
  await wrapper.find(`[data-test="order-product-${sku}"]`).trigger('click')
  await flushPromises()
  await wrapper.find('[data-test="order-next"]').trigger('click')
  await flushPromises()
}

describe('placing an order on the H5', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('goes customer → products → delivery and places a COD order', async () => {
    const created = gateway(() => json(201, { id: 'o1' }))
    const { wrapper, router } = await mountView()
    await throughSteps(wrapper, 'NR-001')
    expect(wrapper.find('[data-test="step-delivery"]').exists()).toBe(true)
    expect(wrapper.text()).toContain('1 种商品，预计 ¥240.00')
    await wrapper.find('[data-test="order-submit"]').trigger('click')
    await flushPromises()
    expect(created[0]).toMatchObject({ customer_id: 'c1', payment_mode: 'cod', lines: [{ product_id: 'p1', quantity: '2' }] })
    expect(router.currentRoute.value.name).toBe('orders')
  })

  it("warns of a product that conflicts with the customer's requirements while choosing", async () => {
    gateway(() => json(201, { id: 'o1' }))
    const { wrapper } = await mountView()
    await wrapper.find('[data-test="order-customer-c1"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-test="order-requirements"]').text()).toContain('客户特殊要求：清真')
    expect(wrapper.find('[data-test="order-product-ZR-002"]').text()).toContain('可能与客户要求冲突：清真')
    expect(wrapper.find('[data-test="order-product-NR-001"]').text()).not.toContain('冲突')
  })

  it('takes a requirement refusal back to the products, beside the product', async () => {
    gateway(() => problem(409, 'requirement_conflict', 'ZR-002 非清真商品，客户要求清真', { field: 'lines[0].product_id' }))
    const { wrapper } = await mountView()
    await throughSteps(wrapper, 'ZR-002')
    await wrapper.find('[data-test="order-submit"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-test="step-products"]').exists()).toBe(true)
    expect(errorBeside(wrapper, '[data-test="order-line-ZR-002"] input')).toBe('ZR-002 非清真商品，客户要求清真')
    expect(wrapper.find('[data-test="order-failure"]').text()).toContain('主管可填写原因后放行')
  })

  it('says cash on delivery still works when credit is refused', async () => {
    gateway(() => problem(409, 'credit_unavailable', 'credit is unavailable', { field: 'payment_mode' }))
    const { wrapper } = await mountView()
    await throughSteps(wrapper, 'NR-001')
    await wrapper.find('[data-test="order-mode-credit"]').trigger('click')
    await wrapper.find('[data-test="order-submit"]').trigger('click')
    await flushPromises()
    expect(errorBeside(wrapper, '[data-test="order-mode"]')).toBe('信用服务暂不可用，不能欠款交货；货到付款仍可下单。')
  })

  it('does not leave the products without a valid quantity', async () => {
    gateway(() => json(201, { id: 'o1' }))
    const { wrapper } = await mountView()
    await wrapper.find('[data-test="order-customer-c1"]').trigger('click')
    await flushPromises()
    await wrapper.find('[data-test="order-next"]').trigger('click')
    expect(wrapper.find('[data-test="lines-error"]').text()).toBe('至少添加一种商品')
    await wrapper.find('[data-test="order-product-NR-001"]').trigger('click')
    await wrapper.find('[data-test="order-line-NR-001"] input').setValue('0')
    await wrapper.find('[data-test="order-next"]').trigger('click')
    await flushPromises()
    expect(errorBeside(wrapper, '[data-test="order-line-NR-001"] input')).toBe('数量须大于 0，最多三位小数')
    expect(wrapper.find('[data-test="step-products"]').exists()).toBe(true)
  })
})
