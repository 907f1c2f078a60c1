import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import { order } from '../orders/fixtures'
import { afterSaleFixture } from './fixtures'
import OrderAfterSales from './OrderAfterSales.vue'

const delivered = order({ state: 'delivered' })
const earlier = afterSaleFixture({ status: 'approved', lines: [{ ...afterSaleFixture().lines[0]!, quantity: '4' }] })

/** The gateway with the order's one earlier after-sale; a request answers `answer`. */
function gateway(answer: () => Response) {
  const requests: unknown[] = []
  const lists: URLSearchParams[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      if (request.method === 'GET') {
        lists.push(url.searchParams)
        return json(200, { items: [earlier], next_page_token: null })
      }
      requests.push({ path: url.pathname, body: await request.json() })
      return answer()
    }),
  )
  return { requests, lists }
}

async function mountBlock(role: string, shown = delivered) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/orders/:id', name: 'order', component: { template: '<p/>' } },
      { path: '/after-sales/:id', name: 'after-sale', component: { template: '<p/>' } },
    ],
  })
  await router.push('/orders/o1')
  auth.me.value = { id: 'u1', role } as never
  const wrapper = mount(OrderAfterSales, {
    props: { order: shown, delivery: null },
    global: { plugins: [i18n, router, createPinia()] },
    attachTo: document.body,
  })
  await flushPromises()
  return { wrapper, router }
}

describe("the order's after-sales", () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('lists the order’s after-sales and requests a refund of what is still open', async () => {
    const created = afterSaleFixture({ id: 'a2', number: 'SH-20261203-0002' })
    const { requests, lists } = gateway(() => json(201, created))
    const { wrapper, router } = await mountBlock('sales')
    expect(lists[0]!.get('order_id')).toBe('o1')
    expect(wrapper.text()).toContain('SH-20261203-0001')

    await wrapper.get('[data-test=after-sale-request]').trigger('click')
    await flushPromises()
    // 10 delivered, 4 held by the approved after-sale.
    expect(document.querySelector('[data-test=after-sale-open-1]')!.textContent).toContain('6 公斤')
    const quantity = document.querySelector<HTMLInputElement>('input[data-test=after-sale-quantity-1]')!
    quantity.value = '2'
    quantity.dispatchEvent(new Event('input'))
    const reason = document.querySelector<HTMLTextAreaElement>('textarea[data-test=after-sale-reason]')!
    reason.value = '外包装破损'
    reason.dispatchEvent(new Event('input'))
    document.querySelector<HTMLElement>('[data-test=after-sale-submit]')!.click()
    await flushPromises()

    expect(requests).toHaveLength(1)
    expect(requests[0]).toMatchObject({
      path: '/api/v1/orders/o1/after-sales',
      body: {
        type: 'return_refund',
        lines: [{ line_no: 1, quantity: '2' }],
        reason: '外包装破损',
        refund_amount: null,
        photo_ids: [],
        reissue_invoice: false,
      },
    })
    expect(router.currentRoute.value.params.id).toBe('a2')
  })

  it('shows the refused quantity at its line', async () => {
    gateway(() => problem(400, 'invalid_argument', 'lines[0].quantity: at most 6 公斤 / 最多6公斤', { field: 'lines[0].quantity' }))
    const { wrapper } = await mountBlock('service')
    await wrapper.get('[data-test=after-sale-request]').trigger('click')
    await flushPromises()
    const quantity = document.querySelector<HTMLInputElement>('input[data-test=after-sale-quantity-1]')!
    quantity.value = '7'
    quantity.dispatchEvent(new Event('input'))
    const reason = document.querySelector<HTMLTextAreaElement>('textarea[data-test=after-sale-reason]')!
    reason.value = '破损'
    reason.dispatchEvent(new Event('input'))
    document.querySelector<HTMLElement>('[data-test=after-sale-submit]')!.click()
    await flushPromises()

    expect(document.querySelector('[data-test=after-sale-dialog]')!.textContent).toContain('最多6公斤')
  })

  it('offers no request before delivery, nor to finance', async () => {
    gateway(() => json(201, {}))
    const undelivered = await mountBlock('sales', order({ state: 'dispatched' }))
    expect(undelivered.wrapper.find('[data-test=after-sale-request]').exists()).toBe(false)
    undelivered.wrapper.unmount()
    const finance = await mountBlock('finance')
    expect(finance.wrapper.find('[data-test=after-sale-request]').exists()).toBe(false)
  })
})
