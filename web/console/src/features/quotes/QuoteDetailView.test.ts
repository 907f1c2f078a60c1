import { flushPromises, mount } from '@vue/test-utils'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import type { Quote } from './api'
import { quoteFixture } from './fixtures'
import QuoteDetailView from './QuoteDetailView.vue'

const pending = quoteFixture({ status: 'pending_approval', submitted_by: 'u1', needs_approval: true, discount_rate: '85.00' })

/** The gateway holding one quote; a decision answers `decided` (or a refusal). */
function gateway(shown: Quote, decided: () => Response) {
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
      { path: '/quotes/:id', name: 'quote', component: QuoteDetailView, props: true },
      { path: '/quotes', name: 'quotes', component: { template: '<p/>' } },
      { path: '/quotes/:id/edit', name: 'quote-edit', component: { template: '<p/>' } },
    ],
  })
  await router.push('/quotes/q1')
  auth.me.value = me as never
  const wrapper = mount(QuoteDetailView, {
    props: { id: 'q1' },
    global: { plugins: [i18n, router, createPinia()] },
    attachTo: document.body,
  })
  await flushPromises()
  return wrapper
}

describe('the quote detail', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.body.innerHTML = ''
  })

  it('lets a supervisor approve with the version read, and shows the approval', async () => {
    const approved = quoteFixture({
      status: 'approved',
      version: 4,
      approval: { decision: 'approve', decided_by: 'u9', comment: '', decided_at: '2026-12-03T11:00:00+08:00' },
    })
    const decisions = gateway(pending, () => json(200, approved))
    const wrapper = await mountDetail({ id: 'u9', role: 'supervisor' })
    expect(wrapper.find('[data-test="quote-status"]').text()).toBe('待审批')
    await wrapper.find('[data-test="quote-approve"]').trigger('click')
    await flushPromises()
    expect(decisions).toEqual([{ decision: 'approve', comment: '', expected_version: 3 }])
    expect(wrapper.find('[data-test="quote-status"]').text()).toBe('已批准')
    expect(wrapper.find('[data-test="quote-approval"]').text()).toContain('2026-12-03 11:00')
    expect(wrapper.find('[data-test="quote-approve"]').exists()).toBe(false)
    expect(wrapper.find('[data-test="quote-convert"]').exists()).toBe(true)
  })

  it('rejects only with a comment, and sends it', async () => {
    const decisions = gateway(pending, () => json(200, quoteFixture({ status: 'rejected', version: 4 })))
    const wrapper = await mountDetail({ id: 'u9', role: 'boss' })
    await wrapper.find('[data-test="quote-reject"]').trigger('click')
    await flushPromises()
    ;(document.querySelector('[data-test="quote-reject-confirm"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(decisions).toHaveLength(0)
    await vi.waitFor(() =>
      expect(document.querySelector('[data-test="quote-reject-dialog"] .el-form-item__error')?.textContent?.trim()).toBe('驳回须填写审批意见'),
    )
    const comment = document.querySelector('#quote-reject-comment') as HTMLTextAreaElement
    comment.value = '牛腩价格低于成本'
    comment.dispatchEvent(new Event('input'))
    await flushPromises()
    ;(document.querySelector('[data-test="quote-reject-confirm"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(decisions).toEqual([{ decision: 'reject', comment: '牛腩价格低于成本', expected_version: 3 }])
    expect(wrapper.find('[data-test="quote-status"]').text()).toBe('已驳回')
    // A rejected quote is changed (back to draft) before it is submitted again.
    expect(wrapper.find('[data-test="quote-edit"]').exists()).toBe(true)
    expect(wrapper.find('[data-test="quote-submit"]').exists()).toBe(false)
  })

  it('offers no decision to the submitter nor to a sales rep, but submits their draft', async () => {
    gateway(pending, () => problem(403, 'permission_denied', '不能审批'))
    expect((await mountDetail({ id: 'u1', role: 'supervisor' })).find('[data-test="quote-approve"]').exists()).toBe(false)
    document.body.innerHTML = ''
    expect((await mountDetail({ id: 'u2', role: 'sales' })).find('[data-test="quote-approve"]').exists()).toBe(false)
    document.body.innerHTML = ''
    const submits = gateway(quoteFixture(), () => json(200, quoteFixture({ status: 'approved', version: 4 })))
    const draft = await mountDetail({ id: 'u1', role: 'sales' })
    await draft.find('[data-test="quote-submit"]').trigger('click')
    await flushPromises()
    expect(submits).toEqual([{ expected_version: 3 }])
    expect(draft.find('[data-test="quote-status"]').text()).toBe('已批准')
  })

  it('turns an approved quote into a cash-on-delivery order, and shows why a credit order is refused', async () => {
    const approved = quoteFixture({ status: 'approved', version: 4 })
    let answer = () => problem(409, 'credit_unavailable', '信用服务暂不可用，货到付款仍可下单')
    const sent = gateway(approved, () => answer())
    const wrapper = await mountDetail({ id: 'u1', role: 'sales' })
    await wrapper.find('[data-test="quote-convert"]').trigger('click')
    await flushPromises()
    ;(document.querySelector('[data-test="quote-convert-dialog"] input[value="credit"]') as HTMLInputElement).click()
    await flushPromises()
    ;(document.querySelector('[data-test="quote-convert-confirm"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatchObject({ payment_mode: 'credit', expected_version: 4, urgent: false })
    await vi.waitFor(() => expect(document.body.textContent).toContain('货到付款仍可下单'))
    ;(document.querySelector('[data-test="quote-convert-dialog"] input[value="cod"]') as HTMLInputElement).click()
    answer = () => json(200, { quote: { ...approved, status: 'converted', order_id: 'o1', version: 5 }, order: { id: 'o1', total_amount: '950.00' } })
    ;(document.querySelector('[data-test="quote-convert-confirm"]') as HTMLButtonElement).click()
    await flushPromises()
    expect(sent[1]).toMatchObject({ payment_mode: 'cod', expected_version: 4 })
    expect(wrapper.find('[data-test="quote-status"]').text()).toBe('已转订单')
    expect(wrapper.find('[data-test="quote-convert"]').exists()).toBe(false)
  })

  it('downloads the PDF through the signed-in client under the name the gateway gives', async () => {
    const saved: string[] = []
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push(this.download)
    })
    URL.createObjectURL = () => 'blob:pdf'
    URL.revokeObjectURL = () => undefined
    const asked: string[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const path = new URL(request.url).pathname
        asked.push(path)
        if (path.endsWith('/pdf')) {
          return new Response('%PDF-1.7', {
            status: 200,
            headers: {
              'Content-Type': 'application/pdf',
              'Content-Disposition': "attachment; filename*=UTF-8''%E6%8A%A5%E4%BB%B7%E5%8D%95-BJ-20261203-0001.pdf",
            },
          })
        }
        return json(200, quoteFixture())
      }),
    )
    const wrapper = await mountDetail({ id: 'u1', role: 'sales' })
    await wrapper.find('[data-test="quote-pdf"]').trigger('click')
    await vi.waitFor(() => expect(saved).toEqual(['报价单-BJ-20261203-0001.pdf']))
    expect(asked).toContain('/api/v1/quotes/q1/pdf')
    vi.restoreAllMocks()
  })
})
