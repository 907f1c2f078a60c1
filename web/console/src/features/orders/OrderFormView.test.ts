import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import { order } from './fixtures'
import OrderFormView from './OrderFormView.vue'

const customer = {
  id: 'c1',
  name: '杭州回民中学食堂',
  addresses: [{ label: '', province: '浙江省', city: '杭州市', district: '上城区', detail: '清泰街 9 号' }],
  special_requirements: [{ kind: 'halal', label: '清真', details: [], details_label: '', note: '' }],
  contacts: [],
  alerts: [],
}
const product = (id: string, sku: string, name: string, halal: boolean) => ({
  id,
  sku,
  name,
  category: '',
  specification: '',
  unit: '公斤',
  list_price: '20.5',
  cost: null,
  tax_rate: '0',
  attributes: { halal, organic: false, contains_pork: false, cold_chain: false, allergens: [] },
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
      if (path === '/api/v1/customers/c1') return json(200, customer)
      if (path === '/api/v1/products') {
        return json(200, { items: [product('p1', 'NR-001', '冷冻牛腩', true), product('p2', 'ZR-002', '猪肉馅', false)], next_page_token: null })
      }
      if (path === '/api/v1/orders' && request.method === 'POST') {
        const body = (await request.json()) as Record<string, unknown>
        created.push(body)
        return onCreate(body)
      }
      return json(200, { items: [], next_page_token: null })
    }),
  )
  return created
}

async function mountAs(role: string) {
  auth.me.value = { role, id: 'u1' } as never
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/orders/new', name: 'order-new', component: OrderFormView },
      { path: '/orders/:id', name: 'order', component: { template: '<p/>' } },
      { path: '/orders', name: 'orders', component: { template: '<p/>' } },
    ],
  })
  await router.push('/orders/new?customer=c1')
  const wrapper = mount(OrderFormView, { global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router }
}

async function chooseProduct(wrapper: Awaited<ReturnType<typeof mountAs>>['wrapper'], name: string) {
  await wrapper.find('[data-test="line-product-0"] .el-select__wrapper').trigger('click')
  await flushPromises()
  const option = [...document.querySelectorAll('.el-select-dropdown__item')].find((el) => el.textContent?.includes(name))
  ;(option as HTMLElement).click()
  await flushPromises()
}

const errorBeside = (selector: string) =>
  document.querySelector(selector)!.closest('.el-form-item')!.querySelector('.el-form-item__error')?.textContent?.trim()

describe('OrderFormView', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('places a COD order for the customer and opens it', async () => {
    const created = gateway(() => json(201, order({ id: 'o9' })))
    const { wrapper, router } = await mountAs('sales')
    expect((document.querySelector('#order-address') as HTMLInputElement).value).toBe('浙江省杭州市上城区清泰街 9 号')
    await chooseProduct(wrapper, '冷冻牛腩')
    await wrapper.find('input[data-test="line-quantity-0"]').setValue('2.5')
    expect(wrapper.find('[data-test="order-estimate"]').text()).toBe('预计金额 ¥51.25')
    await wrapper.find('[data-test="order-submit"]').trigger('click')
    await flushPromises()
    expect(created[0]).toMatchObject({ customer_id: 'c1', payment_mode: 'cod', lines: [{ product_id: 'p1', quantity: '2.5' }] })
    expect(created[0]!.request_id).toEqual(expect.any(String))
    expect(router.currentRoute.value.fullPath).toBe('/orders/o9')
  })

  it('warns of a requirement conflict while choosing, shows the refusal beside the line, and lets a supervisor override', async () => {
    const created = gateway((body) =>
      body.override_reason
        ? json(201, order({ id: 'o10' }))
        : problem(409, 'requirement_conflict', 'ZR-002 非清真商品，客户要求清真', { field: 'lines[0].product_id' }),
    )
    const { wrapper, router } = await mountAs('supervisor')
    await chooseProduct(wrapper, '猪肉馅')
    expect(wrapper.find('[data-test="line-warning-0"]').text()).toBe('可能与客户要求冲突：清真')
    await wrapper.find('[data-test="order-submit"]').trigger('click')
    await flushPromises()
    await vi.waitFor(() => expect(errorBeside('[data-test="line-product-0"]')).toBe('ZR-002 非清真商品，客户要求清真'))
    expect(wrapper.find('[data-test="order-conflict"]').exists()).toBe(true)
    await wrapper.find('input[data-test="order-override"]').setValue('客户书面确认可以')
    await wrapper.find('[data-test="order-submit"]').trigger('click')
    await flushPromises()
    expect(created[1]).toMatchObject({ override_reason: '客户书面确认可以' })
    expect(created[1]!.request_id).not.toBe(created[0]!.request_id)
    expect(router.currentRoute.value.fullPath).toBe('/orders/o10')
  })

  it('does not offer a rep the override', async () => {
    gateway(() => problem(409, 'requirement_conflict', 'ZR-002 非清真商品', { field: 'lines[0].product_id' }))
    const { wrapper } = await mountAs('sales')
    await chooseProduct(wrapper, '猪肉馅')
    await wrapper.find('[data-test="order-submit"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-test="order-conflict"]').exists()).toBe(true)
    expect(wrapper.find('[data-test="order-override"]').exists()).toBe(false)
  })

  it('shows a closure refusal beside the delivery date', async () => {
    gateway(() => problem(409, 'delivery_date_closed', '客户在2026-12-20至2027-01-05停工放假，不能送货', { field: 'delivery_date' }))
    const { wrapper } = await mountAs('sales')
    await chooseProduct(wrapper, '冷冻牛腩')
    await wrapper.find('[data-test="order-submit"]').trigger('click')
    await flushPromises()
    await vi.waitFor(() => expect(errorBeside('#order-date')).toBe('客户在2026-12-20至2027-01-05停工放假，不能送货'))
  })

  it('says cash on delivery still works when credit is refused', async () => {
    gateway(() => problem(409, 'credit_unavailable', 'credit is unavailable', { field: 'payment_mode' }))
    const { wrapper } = await mountAs('sales')
    await chooseProduct(wrapper, '冷冻牛腩')
    await wrapper.find('[data-test="order-mode-credit"] input').setValue(true)
    await wrapper.find('[data-test="order-submit"]').trigger('click')
    await flushPromises()
    await vi.waitFor(() =>
      expect(errorBeside('[data-test="order-mode"]')).toBe('信用服务暂不可用，不能欠款交货；货到付款仍可下单。'),
    )
  })

  it('checks the lines before asking the API', async () => {
    const created = gateway(() => json(201, order()))
    const { wrapper } = await mountAs('sales')
    await wrapper.find('[data-test="order-submit"]').trigger('click')
    await flushPromises()
    expect(created).toHaveLength(0)
    await vi.waitFor(() => expect(errorBeside('[data-test="line-product-0"]')).toBe('请选择商品'))
  })
})
