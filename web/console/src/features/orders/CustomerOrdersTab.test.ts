import { flushPromises, mount } from '@vue/test-utils'
import { json } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import CustomerOrdersTab from './CustomerOrdersTab.vue'
import { order } from './fixtures'

function gateway() {
  const asked: URL[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      asked.push(url)
      return json(200, { items: [order({ customer_id: 'c7' })], next_page_token: null })
    }),
  )
  return asked
}

async function mountTab(role: string, canOrder: boolean) {
  auth.me.value = { role, id: 'u1' } as never
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
      { path: '/orders/new', name: 'order-new', component: { template: '<p/>' } },
      { path: '/orders/:id', name: 'order', component: { template: '<p/>' } },
    ],
  })
  await router.push('/customers/c7')
  const wrapper = mount(CustomerOrdersTab, { props: { customerId: 'c7', canOrder }, global: { plugins: [i18n, router] } })
  await flushPromises()
  return { wrapper, router }
}

describe('CustomerOrdersTab', () => {
  afterEach(() => vi.unstubAllGlobals())

  it("lists only that customer's orders and starts a new order for it", async () => {
    const asked = gateway()
    const { wrapper, router } = await mountTab('sales', true)
    expect(asked[0]!.searchParams.get('customer_id')).toBe('c7')
    expect(wrapper.find('[data-test="order-table"]').text()).toContain('¥1,685.50')
    await wrapper.find('[data-test="customer-order-new"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/orders/new?customer=c7')
  })

  it('offers no new order to a read-only collaborator', async () => {
    gateway()
    const { wrapper } = await mountTab('sales', false)
    expect(wrapper.find('[data-test="customer-order-new"]').exists()).toBe(false)
  })
})
