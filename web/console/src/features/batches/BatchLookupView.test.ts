import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import type { BatchLookup, Recall } from './api'
import BatchLookupView from './BatchLookupView.vue'

const confirm = vi.hoisted(() => vi.fn(async () => 'confirm'))
vi.mock('element-plus', async (original) => {
  const actual = await original<typeof import('element-plus')>()
  return { ...actual, ElMessageBox: { confirm } }
})

const canteen = {
  customer_id: 'c1',
  customer_name: '杭州市第一中学食堂',
  owner_id: 'u1',
  owner_name: '张三',
  quantities: [{ product_id: 'p1', sku: 'NR-001', product_name: '冷冻牛腩', unit: '箱', quantity: '3.5' }],
  last_delivery_date: '2026-11-29',
  last_dispatched_at: '2026-11-28T06:30:00+08:00',
  order_count: 2,
  contacts: [{ name: '王主任', title: '后勤主任', decision_role: null, mobile: '139****9000', primary: true }],
}

function recall(extra: Partial<Recall> = {}): Recall {
  return {
    id: 'r1',
    batch_no: 'B20261128-01',
    reason: '供应商通报：沙门氏菌检出',
    raised_by: 'u7',
    raised_by_name: '李主管',
    raised_at: '2026-12-03T10:00:00+08:00',
    customers: [],
    customer_count: 5,
    ...extra,
  }
}

function lookup(extra: Partial<BatchLookup> = {}): BatchLookup {
  return { batch_no: 'B20261128-01', customers: [canteen], lines: [], truncated: false, contacts_unavailable: false, recall: null, ...extra }
}

function gateway(answers: { lookup?: () => Response; recall?: () => Response; recalls?: Recall[] } = {}) {
  const calls: { method: string; path: string; query: URLSearchParams; body: unknown }[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      const body = request.method === 'POST' ? await request.json() : null
      calls.push({ method: request.method, path: url.pathname, query: url.searchParams, body })
      if (url.pathname === '/api/v1/recalls') return json(200, { items: answers.recalls ?? [], next_page_token: null })
      if (request.method === 'POST') return (answers.recall ?? (() => json(201, recall())))()
      return (answers.lookup ?? (() => json(200, lookup())))()
    }),
  )
  return calls
}

async function mountPage(path: string, role: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/batches', name: 'batches', component: BatchLookupView },
      { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
    ],
  })
  await router.push(path)
  auth.me.value = { id: 'u9', role } as never
  const wrapper = mount(BatchLookupView, { global: { plugins: [i18n, router, createPinia()] }, attachTo: document.body })
  await flushPromises()
  return { wrapper, router }
}

describe('the batch recall page', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    confirm.mockClear()
    document.body.innerHTML = ''
  })

  it('lists the customers that received the batch with the contacts to call and quantities', async () => {
    const calls = gateway()
    const { wrapper } = await mountPage('/batches?batch=B20261128-01', 'sales')
    expect(calls.some((c) => c.path === '/api/v1/batches/B20261128-01')).toBe(true)
    const text = wrapper.text()
    expect(text).toContain('杭州市第一中学食堂')
    expect(text).toContain('王主任')
    expect(text).toContain('139****9000')
    expect(text).toContain('冷冻牛腩 3.5 箱')
    expect(text).toContain('2026-11-29')
    // A rep does not raise recalls.
    expect(wrapper.find('[data-test="recall-open"]').exists()).toBe(false)
  })

  it('says no customer of yours received a batch it cannot find, and checks the number before asking', async () => {
    const calls = gateway({ lookup: () => problem(404, 'not_found', 'batch not found') })
    const { wrapper, router } = await mountPage('/batches?batch=B-NONE', 'sales')
    expect(wrapper.find('[data-test="batch-failure"]').text()).toContain('B-NONE')

    await router.push('/batches?batch=' + encodeURIComponent('B 01;'))
    await flushPromises()
    expect(wrapper.find('[data-test="batch-failure"]').text()).toContain('批次号只能含字母')
    expect(calls.filter((c) => c.path.startsWith('/api/v1/batches/'))).toHaveLength(1)
  })

  it('lets a supervisor raise the recall with a reason after confirming, then shows it recalled', async () => {
    const calls = gateway()
    const { wrapper } = await mountPage('/batches?batch=B20261128-01', 'supervisor')
    await wrapper.find('[data-test="recall-open"]').trigger('click')
    await flushPromises()
    const confirmButton = document.querySelector<HTMLButtonElement>('[data-test="recall-confirm"]')!
    confirmButton.click()
    await flushPromises()
    // No reason: nothing asked, nothing sent.
    expect(confirm).not.toHaveBeenCalled()
    expect(document.querySelector('[data-test="recall-failure"]')?.textContent).toContain('请填写召回原因')

    const reason = document.querySelector<HTMLTextAreaElement>('textarea#recall-reason')!
    reason.value = '供应商通报：沙门氏菌检出'
    reason.dispatchEvent(new Event('input'))
    confirmButton.click()
    await flushPromises()

    expect(confirm).toHaveBeenCalledTimes(1)
    const posted = calls.find((c) => c.method === 'POST')!
    expect(posted.path).toBe('/api/v1/batches/B20261128-01/recall')
    expect(posted.body).toEqual({ reason: '供应商通报：沙门氏菌检出' })
    expect(wrapper.find('[data-test="batch-recalled"]').text()).toContain('李主管')
    expect(wrapper.find('[data-test="recall-open"]').exists()).toBe(false)
    expect(wrapper.find('[data-test="recall-list"]').text()).toContain('供应商通报：沙门氏菌检出')
  })

  it('sends nothing when the supervisor cancels the confirmation', async () => {
    confirm.mockImplementationOnce(async () => {
      throw new Error('cancel')
    })
    const calls = gateway()
    const { wrapper } = await mountPage('/batches?batch=B20261128-01', 'supervisor')
    await wrapper.find('[data-test="recall-open"]').trigger('click')
    await flushPromises()
    const reason = document.querySelector<HTMLTextAreaElement>('textarea#recall-reason')!
    reason.value = '包装破损'
    reason.dispatchEvent(new Event('input'))
    document.querySelector<HTMLButtonElement>('[data-test="recall-confirm"]')!.click()
    await flushPromises()
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
  })

  it('opens the batch of the recall a notification links, and lists past recalls', async () => {
    const calls = gateway({ recalls: [recall()] })
    const { wrapper, router } = await mountPage('/batches?recall=r1', 'sales')
    await flushPromises()
    expect(calls.find((c) => c.path === '/api/v1/recalls' && c.query.get('recall_id') === 'r1')).toBeTruthy()
    expect(router.currentRoute.value.query.batch).toBe('B20261128-01')
    expect(wrapper.find('[data-test="recall-list"]').text()).toContain('5 位')
  })
})
