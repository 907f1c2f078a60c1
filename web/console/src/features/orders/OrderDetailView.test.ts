import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import { order, revision } from './fixtures'
import OrderDetailView from './OrderDetailView.vue'

interface Moves {
  [action: string]: () => Response
}

function gateway(current: ReturnType<typeof order>, moves: Moves = {}, revisions = [revision()]) {
  const bodies: Record<string, unknown> = {}
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname
      if (path === '/api/v1/orders/o1') return json(200, { order: current, revisions })
      const action = path.match(/^\/api\/v1\/orders\/o1\/(\w+)$/)?.[1]
      if (action && request.method === 'POST') {
        bodies[action] = await request.json()
        return (moves[action] ?? (() => problem(500, 'server_error', '')))()
      }
      if (path === '/api/v1/orders/missing') return problem(404, 'not_found', '订单不存在')
      return json(200, { items: [] })
    }),
  )
  return bodies
}

async function mountAs(role: string, id = 'o1') {
  auth.me.value = { role, id: 'u1' } as never
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/orders/:id', name: 'order', component: OrderDetailView, props: true },
      { path: '/orders', name: 'orders', component: { template: '<p/>' } },
      { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
    ],
  })
  await router.push(`/orders/${id}`)
  const wrapper = mount(OrderDetailView, { props: { id }, global: { plugins: [i18n, router, createPinia()] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

const buttons = (wrapper: Awaited<ReturnType<typeof mountAs>>) =>
  wrapper.findAll('[data-test^="order-action-"]').map((b) => b.attributes('data-test')!.replace('order-action-', ''))

describe('OrderDetailView', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('shows lines, the total in CNY, warnings, overrides and the revision diff', async () => {
    gateway(
      order({
        warnings: [{ code: 'outside_delivery_window', message: '送货日期不在客户的收货时段内' }],
        overrides: [{ line_no: 1, sku: 'NR-001', requirement: 'halal', overridden_by: 'u9', reason: '客户书面同意' }],
      }),
    )
    const wrapper = await mountAs('sales')
    expect(wrapper.find('[data-test="order-total"]').text()).toBe('¥1,685.50')
    expect(wrapper.find('[data-test="order-lines"]').text()).toContain('冷冻牛腩')
    expect(wrapper.find('[data-test="order-lines"]').text()).toContain('¥685.00')
    expect(wrapper.find('[data-test="order-lines"]').text()).not.toContain('成本价')
    expect(wrapper.find('[data-test="order-warning-outside_delivery_window"]').text()).toContain('送货日期不在客户的收货时段内')
    expect(wrapper.find('[data-test="order-overrides"]').text()).toContain('客户书面同意')
    expect(wrapper.find('[data-test="order-margin"]').exists()).toBe(false)
    const diff = wrapper.find('[data-test="revision-diff-2"]').text()
    expect(diff).toContain('送货日期')
    expect(diff).toContain('2026-12-08')
    expect(diff).toContain('2026-12-09')
    expect(wrapper.find('[data-test="order-revisions"]').text()).toContain('2026-12-03 11:00')
  })

  it('offers a rep the moves of a draft, and a boss the margin', async () => {
    gateway(order({ margin: '300.5' }))
    expect(buttons(await mountAs('sales'))).toEqual(['confirm', 'cancel'])
    document.body.innerHTML = ''
    const boss = await mountAs('boss')
    expect(boss.find('[data-test="order-margin"]').text()).toBe('¥300.50')
  })

  it('lets finance record a payment and nothing else on an order awaiting it', async () => {
    gateway(order({ state: 'awaiting_payment' }), {
      record_payment: () => json(200, order({ state: 'ready_to_ship', version: 4, paid_at: '2026-12-03T05:00:00Z' })),
    })
    const wrapper = await mountAs('finance')
    expect(buttons(wrapper)).toEqual(['record_payment'])
    await wrapper.find('[data-test="order-action-record_payment"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-test="order-state"]').text()).toBe('待出库')
    expect(wrapper.find('[data-test="order-paid-at"]').text()).toBe('2026-12-03 13:00')
  })

  it('says cash on delivery still works when confirming a credit order is refused', async () => {
    const bodies = gateway(order({ payment_mode: 'credit', version: 3 }), {
      confirm: () => problem(409, 'credit_unavailable', 'credit is unavailable', { field: 'payment_mode' }),
    })
    const wrapper = await mountAs('sales')
    await wrapper.find('[data-test="order-action-confirm"]').trigger('click')
    await flushPromises()
    expect(bodies.confirm).toEqual({ expected_version: 3, reason: '' })
    expect(wrapper.find('[data-test="order-refusal"]').text()).toBe('信用服务暂不可用，不能欠款交货；货到付款仍可下单。')
    expect(wrapper.find('[data-test="order-state"]').text()).toBe('草稿')
  })

  it('asks for a reason before cancelling, and sends it', async () => {
    const bodies = gateway(order(), {
      cancel: () => json(200, order({ state: 'cancelled', cancel_reason: '客户取消采购', version: 2 })),
    })
    const wrapper = await mountAs('sales')
    await wrapper.find('[data-test="order-action-cancel"]').trigger('click')
    await flushPromises()
    const dialog = document.querySelector('[data-test="cancel-dialog"]')!
    ;(dialog.querySelector('[data-test="cancel-confirm"]') as HTMLButtonElement).click()
    await flushPromises()
    const item = dialog.querySelector('#cancel-reason')!.closest('.el-form-item')!
    await vi.waitFor(() => expect(item.querySelector('.el-form-item__error')?.textContent?.trim()).toBe('请填写取消原因'))
    expect(bodies.cancel).toBeUndefined()
    const input = dialog.querySelector('#cancel-reason') as HTMLTextAreaElement
    input.value = '客户取消采购'
    input.dispatchEvent(new Event('input'))
    ;(dialog.querySelector('[data-test="cancel-confirm"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(bodies.cancel).toEqual({ expected_version: 1, reason: '客户取消采购' })
    expect(wrapper.find('[data-test="order-cancel-reason"]').text()).toBe('取消原因：客户取消采购')
  })

  it('shows a missing order as not found', async () => {
    gateway(order())
    const wrapper = await mountAs('sales', 'missing')
    expect(wrapper.find('[data-test="order-not-found"]').exists()).toBe(true)
  })
})
