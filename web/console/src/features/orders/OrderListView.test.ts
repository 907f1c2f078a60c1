import { flushPromises, mount } from '@vue/test-utils'
import { json } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import { order } from './fixtures'
import OrderListView from './OrderListView.vue'

function gateway() {
  const asked: URL[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      asked.push(url)
      if (url.pathname === '/api/v1/orders') {
        return json(200, {
          items: [
            order({ id: 'o2', urgent: true, customer_name: '西湖大酒店', total_amount: '12345.6', state: 'confirmed' }),
            order({ id: 'o1' }),
          ],
          next_page_token: null,
        })
      }
      return json(200, { items: [], next_page_token: null })
    }),
  )
  return asked
}

async function mountAs(role: string) {
  auth.me.value = { role, id: 'u1' } as never
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/orders', name: 'orders', component: OrderListView },
      { path: '/orders/new', name: 'order-new', component: { template: '<p/>' } },
      { path: '/orders/:id', name: 'order', component: { template: '<p/>' } },
    ],
  })
  await router.push('/orders')
  const wrapper = mount(OrderListView, { global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

describe('OrderListView', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('lists orders in the order the API gives (urgent first) with CNY amounts and Shanghai times', async () => {
    gateway()
    const wrapper = await mountAs('sales')
    const rows = wrapper.findAll('.el-table__body tr')
    expect(rows[0]!.text()).toContain('西湖大酒店')
    expect(rows[0]!.find('[data-test="order-urgent"]').exists()).toBe(true)
    expect(rows[0]!.find('[data-test="order-total"]').text()).toBe('¥12,345.60')
    expect(rows[0]!.text()).toContain('已确认')
    expect(rows[1]!.text()).toContain('2026-12-03 10:30')
    expect(rows[1]!.find('[data-test="order-urgent"]').exists()).toBe(false)
    expect(wrapper.find('[data-test="order-new"]').exists()).toBe(true)
  })

  it('filters by state', async () => {
    const asked = gateway()
    const wrapper = await mountAs('finance')
    expect(wrapper.find('[data-test="order-new"]').exists()).toBe(false)
    await wrapper.find('[data-test="order-filter-state"] .el-select__wrapper').trigger('click')
    await flushPromises()
    const option = [...document.querySelectorAll('.el-select-dropdown__item')].find((el) => el.textContent?.trim() === '待付款')
    ;(option as HTMLElement).click()
    await flushPromises()
    const last = asked.filter((u) => u.pathname === '/api/v1/orders').at(-1)!
    expect(last.searchParams.get('status')).toBe('awaiting_payment')
  })
})
