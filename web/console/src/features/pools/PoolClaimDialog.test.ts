import { flushPromises, mount } from '@vue/test-utils'
import type { PoolCustomer } from '@keyuan/shared'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '../../app'
import PoolClaimDialog from './PoolClaimDialog.vue'

const customer = { id: 'c7', name: '西湖大酒店' } as PoolCustomer
const claim = (status: string) => ({
  id: 'cl1',
  pool_id: 'p1',
  customer_id: 'c7',
  customer_name: '西湖大酒店',
  claimant_id: 'u1',
  claimant_name: '张伟',
  reason: '客户来电',
  status,
  decider_id: null,
  decider_name: '',
  comment: '',
  created_at: '2026-12-02T10:00:00+08:00',
  decided_at: null,
})

function gateway(answer: () => Response) {
  const bodies: unknown[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      bodies.push(await request.json())
      return answer()
    }),
  )
  return bodies
}

async function claimWith(reason: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', component: { template: '<p/>' } },
      { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
    ],
  })
  await router.push('/')
  const wrapper = mount(PoolClaimDialog, {
    props: { poolId: 'p1', customer, open: true },
    global: { plugins: [i18n, router] },
    attachTo: document.body,
  })
  await flushPromises()
  const input = document.querySelector('#claim-reason') as HTMLTextAreaElement
  input.value = reason
  input.dispatchEvent(new Event('input'))
  await flushPromises()
  ;(document.querySelector('[data-test="claim-confirm"]') as HTMLButtonElement).click()
  await flushPromises()
  return wrapper
}

const dialog = () => document.querySelector('[data-test="claim-dialog"]')!

describe('PoolClaimDialog', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('requires a reason before asking the API', async () => {
    const bodies = gateway(() => json(201, claim('approved')))
    await claimWith('   ')
    expect(bodies).toHaveLength(0)
    await vi.waitFor(() => expect(dialog().querySelector('.el-form-item__error')?.textContent?.trim()).toBe('必填'))
  })

  it('links to the customer when the claim is approved at once', async () => {
    const bodies = gateway(() => json(201, claim('approved')))
    await claimWith('客户来电询价')
    expect(bodies[0]).toMatchObject({ customer_id: 'c7', reason: '客户来电询价' })
    expect(dialog().querySelector('[data-test="claim-approved"]')).not.toBeNull()
    expect(dialog().querySelector('[data-test="claim-open-customer"]')!.getAttribute('href')).toBe('/customers/c7')
  })

  it('says the claim awaits approval when the pool needs it', async () => {
    gateway(() => json(201, claim('pending')))
    await claimWith('客户来电询价')
    expect(dialog().querySelector('[data-test="claim-pending"]')!.textContent).toContain('待审批')
  })

  it('names the cool-down’s end when the rep may not claim yet', async () => {
    gateway(() => problem(412, 'claim_cooldown', 'cooldown', { until: '2026-12-20T09:00:00+08:00' }))
    await claimWith('再试一次')
    expect(dialog().querySelector('[data-test="claim-refusal"]')!.textContent).toContain('2026-12-20 后可再领取')
  })

  it('says a colleague got there first on a 409', async () => {
    gateway(() => problem(409, 'aborted', 'conflict'))
    await claimWith('客户来电询价')
    expect(dialog().querySelector('[data-test="claim-refusal"]')!.textContent).toContain('该客户刚被同事领取')
  })
})
