import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { closeToast } from 'vant'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../../app'
import PoolView from './PoolView.vue'

const pool = { id: 'p1', name: '杭州公海', customer_count: 1, requires_approval: false }
const poolCustomer = {
  id: 'c7',
  name: '西湖大酒店',
  short_name: '',
  type: '酒店',
  tier: 'key',
  lifecycle_stage: 'prospect',
  tags: [],
  region: '浙江省 杭州市 西湖区',
  entered_at: '2026-11-30T10:00:00+08:00',
  enter_kind: 'released',
  enter_reason: '客户暂停采购',
  last_interaction_at: null,
  claim_pending: false,
}

function gateway(onClaim: () => Response) {
  const claims: unknown[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname
      if (path === '/api/v1/pools') return json(200, { items: [pool] })
      if (path === '/api/v1/pools/p1/customers') return json(200, { items: [poolCustomer], next_page_token: null })
      if (path === '/api/v1/pools/p1/claims') {
        claims.push(await request.json())
        return onClaim()
      }
      return problem(404, 'not_found', 'nope')
    }),
  )
  return claims
}

async function mountView() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/pool', name: 'pool', component: PoolView },
      { path: '/customers/:id', name: 'customer', component: { template: '<p>card</p>' } },
    ],
  })
  await router.push('/pool')
  const wrapper = mount(PoolView, { global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router }
}

async function claimWith(reason: string) {
  await (document.querySelector('[data-test="claim-c7"]') as HTMLButtonElement).click()
  await flushPromises()
  const input = document.querySelector('[data-test="claim-reason"] textarea') as HTMLTextAreaElement
  input.value = reason
  input.dispatchEvent(new Event('input'))
  ;(document.querySelector('[data-test="claim-sheet"]') as HTMLFormElement).dispatchEvent(new Event('submit'))
  await flushPromises()
}

describe('PoolView', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    // A toast's timer would otherwise fire after the test's window is gone.
    closeToast(true)
    document.body.innerHTML = ''
  })

  it('lists the pool’s customers with type, tier, region and when they entered', async () => {
    gateway(() => json(201, {}))
    const { wrapper } = await mountView()
    const row = wrapper.find('[data-test="pool-customer"]').text()
    expect(row).toContain('西湖大酒店')
    expect(row).toContain('重点')
    expect(row).toContain('浙江省 杭州市 西湖区')
    expect(row).toContain('2026-11-30')
  })

  it('opens the customer once a claim without approval succeeds', async () => {
    const claims = gateway(() => json(201, { customer_id: 'c7', status: 'approved' }))
    const { router } = await mountView()
    await claimWith('客户来电询价')
    expect(claims).toMatchObject([{ customer_id: 'c7', reason: '客户来电询价' }])
    expect(router.currentRoute.value.fullPath).toBe('/customers/c7')
  })

  it('shows the day’s claim limit when the pool refuses', async () => {
    gateway(() => problem(412, 'claim_limit_reached', 'limit', { limit: 5 }))
    await mountView()
    await claimWith('客户来电询价')
    expect(document.querySelector('[data-test="claim-refusal"]')!.textContent).toBe('已达本公海每日领取上限（5 个）')
  })
})
