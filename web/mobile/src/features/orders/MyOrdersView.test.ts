import { flushPromises, mount } from '@vue/test-utils'
import { json } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../../app'
import MyOrdersView from './MyOrdersView.vue'

const order = (id: string, name: string, urgent: boolean, total: string) => ({
  id,
  customer_id: 'c1',
  customer_name: name,
  payment_mode: 'cod',
  state: 'draft',
  total_amount: total,
  delivery_date: '2026-12-08',
  urgent,
})

describe("the rep's order list on the H5", () => {
  afterEach(() => vi.unstubAllGlobals())

  it('lists orders as the API gives them, urgent marked, amounts in CNY', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        json(200, { items: [order('o2', '西湖大酒店', true, '3200'), order('o1', '杭州实验小学食堂', false, '85.5')], next_page_token: null }),
      ),
    )
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/orders', name: 'orders', component: MyOrdersView },
        { path: '/orders/new', name: 'order-new', component: { template: '<p/>' } },
        { path: '/orders/:id', name: 'order', component: { template: '<p/>' } },
      ],
    })
    await router.push('/orders')
    const wrapper = mount(MyOrdersView, { global: { plugins: [i18n, router] } })
    await flushPromises()
    const cells = wrapper.findAll('[data-test^="order-o"]')
    expect(cells.map((c) => c.attributes('data-test'))).toEqual(['order-o2', 'order-o1'])
    expect(cells[0]!.find('[data-test="order-urgent"]').exists()).toBe(true)
    expect(cells[0]!.find('[data-test="order-total"]').text()).toBe('¥3,200.00')
    expect(cells[1]!.text()).toContain('草稿')
    expect(cells[1]!.text()).toContain('2026-12-08')
  })
})
