import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import type { AfterSale } from './api'
import AfterSaleDetailView from './AfterSaleDetailView.vue'
import { afterSaleFixture } from './fixtures'

const requested = afterSaleFixture({ type: 'exchange', refund_amount: '0', requested_by: 'u1', reissue_invoice: true })

/** The gateway holding one after-sale; a decision answers `decided` (or a refusal). */
function gateway(shown: AfterSale, decided: () => Response) {
  const decisions: unknown[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      if (request.method === 'GET') return json(200, shown)
      decisions.push(await request.json())
      return decided()
    }),
  )
  return decisions
}

async function mountDetail(me: { id: string; role: string }) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/after-sales/:id', name: 'after-sale', component: AfterSaleDetailView, props: true },
      { path: '/after-sales', name: 'after-sales', component: { template: '<p/>' } },
      { path: '/orders/:id', name: 'order', component: { template: '<p/>' } },
      { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
    ],
  })
  await router.push('/after-sales/a1')
  auth.me.value = me as never
  const wrapper = mount(AfterSaleDetailView, {
    props: { id: 'a1' },
    global: { plugins: [i18n, router, createPinia()] },
    attachTo: document.body,
  })
  await flushPromises()
  return wrapper
}

describe('the after-sale detail', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('lets a supervisor approve an exchange with the version read, and links the shipment order it created', async () => {
    const approved = afterSaleFixture({
      ...requested,
      status: 'approved',
      version: 2,
      shipment_order_id: 'o2',
      approval: { decision: 'approve', decided_by: 'u9', decided_by_name: '王磊', comment: '同意换货', decided_at: '2026-12-03T11:00:00+08:00' },
    })
    const decisions = gateway(requested, () => json(200, approved))
    const wrapper = await mountDetail({ id: 'u9', role: 'supervisor' })
    expect(wrapper.get('[data-test=after-sale-type]').text()).toBe('退货换货')
    expect(wrapper.get('[data-test=after-sale-invoice]').text()).toBe('是')

    await wrapper.get('textarea[data-test=after-sale-comment]').setValue('同意换货')
    await wrapper.get('[data-test=after-sale-approve]').trigger('click')
    await flushPromises()

    expect(decisions).toEqual([{ decision: 'approve', comment: '同意换货', expected_version: 1 }])
    expect(wrapper.get('[data-test=after-sale-approval]').text()).toContain('王磊')
    expect(wrapper.find('[data-test=after-sale-shipment]').exists()).toBe(true)
    expect(wrapper.find('[data-test=after-sale-decide]').exists()).toBe(false)
  })

  it('asks for a comment before a rejection is sent', async () => {
    const decisions = gateway(requested, () => json(200, requested))
    const wrapper = await mountDetail({ id: 'u9', role: 'boss' })

    await wrapper.get('[data-test=after-sale-reject]').trigger('click')
    await flushPromises()

    expect(decisions).toEqual([])
    const item = wrapper.get('#after-sale-comment').element.closest('.el-form-item')!
    await vi.waitFor(() => expect(item.querySelector('.el-form-item__error')?.textContent?.trim()).toBe('驳回须填写审批意见'))
  })

  it('shows a refusal, and offers no decision to the requester or a rep', async () => {
    gateway(requested, () => problem(409, 'illegal_after_sale_state', '售后单当前状态为已批准，不能审批 / decide'))
    const supervisor = await mountDetail({ id: 'u9', role: 'supervisor' })
    await supervisor.get('[data-test=after-sale-approve]').trigger('click')
    await flushPromises()
    expect(supervisor.text()).toContain('已批准')
    supervisor.unmount()

    const requester = await mountDetail({ id: 'u1', role: 'supervisor' })
    expect(requester.find('[data-test=after-sale-decide]').exists()).toBe(false)
    requester.unmount()
    const rep = await mountDetail({ id: 'u5', role: 'sales' })
    expect(rep.find('[data-test=after-sale-decide]').exists()).toBe(false)
    expect(rep.find('[data-test=after-sale-cost]').exists()).toBe(false)
  })
})
