import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { json, refusal } from '@keyuan/shared/testing/answers.ts'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import { quoteFixture } from './fixtures'
import QuoteEditorView from './QuoteEditorView.vue'

interface Sent {
  method: string
  path: string
  body: unknown
}

/** The gateway as the editor sees it: the draft q1, and `answer` for what the editor sends. */
function gateway(answer: (sent: Sent) => Response) {
  const sent: Sent[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const path = new URL(request.url).pathname
      if (request.method === 'GET') return json(200, quoteFixture())
      const call = { method: request.method, path, body: await request.json() }
      sent.push(call)
      return answer(call)
    }),
  )
  return sent
}

async function mountEditor() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/quotes/:id/edit', name: 'quote-edit', component: QuoteEditorView, props: true },
      { path: '/quotes/:id', name: 'quote', component: { template: '<p/>' } },
    ],
  })
  await router.push('/quotes/q1/edit')
  auth.me.value = { id: 'u1', role: 'sales' } as never
  const wrapper = mount(QuoteEditorView, { props: { id: 'q1' }, global: { plugins: [i18n, router, createPinia()] } })
  await flushPromises()
  return { wrapper, router }
}

async function errorBeside(wrapper: VueWrapper, input: string): Promise<string> {
  const item = () => wrapper.find(input).element.closest('.el-form-item')
  await vi.waitFor(() => expect(item()?.querySelector('.el-form-item__error')).not.toBeNull())
  return item()!.querySelector('.el-form-item__error')!.textContent!.trim()
}

describe('the quote editor', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('works out the line rate, amount and overall rate as the price is typed, and warns below 90%', async () => {
    gateway(() => json(200, quoteFixture()))
    const { wrapper } = await mountEditor()
    expect(wrapper.find('[data-test="line-rate-0"]').text()).toBe('95.00%')
    expect(wrapper.find('[data-test="quote-needs-approval"]').exists()).toBe(false)
    await wrapper.find('input#line-price-0').setValue('85.5')
    expect(wrapper.find('[data-test="line-rate-0"]').text()).toBe('85.50%')
    expect(wrapper.find('[data-test="line-amount-0"]').text()).toBe('¥855.00')
    expect(wrapper.find('[data-test="quote-rate"]').text()).toBe('85.50%')
    expect(wrapper.find('[data-test="quote-needs-approval"]').text()).toContain('90.00%')
    await wrapper.find('input#line-quantity-0').setValue('2.5')
    expect(wrapper.find('[data-test="quote-total"]').text()).toBe('¥213.75')
  })

  it('saves the lines with the version it read, then submits, and opens the quote', async () => {
    const sent = gateway(({ path }) =>
      json(200, path.endsWith('/submit') ? quoteFixture({ status: 'pending_approval', version: 5 }) : quoteFixture({ version: 4 })),
    )
    const { wrapper, router } = await mountEditor()
    await wrapper.find('input#line-price-0').setValue('80')
    await wrapper.find('[data-test="quote-submit"]').trigger('click')
    await flushPromises()
    expect(sent.map((s) => `${s.method} ${s.path}`)).toEqual(['PATCH /api/v1/quotes/q1', 'POST /api/v1/quotes/q1/submit'])
    expect(sent[0]!.body).toEqual({
      lines: [{ product_id: 'p1', quantity: '10.000', quoted_price: '80' }],
      valid_until: '2026-12-31',
      notes: '',
      expected_version: 3,
    })
    expect(sent[1]!.body).toEqual({ expected_version: 4 })
    expect(router.currentRoute.value.name).toBe('quote')
  })

  it("refuses a quantity it cannot read without asking the API, and puts the API's 422 beside its field", async () => {
    const sent = gateway(() => refusal([{ field: 'lines[0].quoted_price', message: '报价不能使价格为负' }]))
    const { wrapper } = await mountEditor()
    await wrapper.find('input#line-quantity-0').setValue('0')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(sent).toHaveLength(0)
    expect(await errorBeside(wrapper, 'input#line-quantity-0')).toBe('数量须大于 0，最多三位小数')
    await wrapper.find('input#line-quantity-0').setValue('3')
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(sent).toHaveLength(1)
    expect(await errorBeside(wrapper, 'input#line-price-0')).toBe('报价不能使价格为负')
  })
})
