import { flushPromises, mount } from '@vue/test-utils'
import { json } from '@keyuan/shared/testing/answers.ts'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import { quoteFixture } from './fixtures'
import QuoteEditorView from './QuoteEditorView.vue'

const beef = {
  id: 'p1',
  sku: 'NR-001',
  name: '冷冻牛腩',
  specification: '5kg/箱',
  unit: '箱',
  category: '肉类',
  list_price: '128.00',
  cost: null,
  tax_rate: '9.00',
  active: true,
  attributes: {},
  version: 1,
  created_at: '2026-12-01T10:00:00+08:00',
  updated_at: '2026-12-01T10:00:00+08:00',
}

describe('a new quote', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('needs a customer, then drafts the chosen product at the list price with a request id', async () => {
    const created: Record<string, unknown>[] = []
    const searched: string[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const url = new URL(request.url)
        if (url.pathname === '/api/v1/products') {
          searched.push(url.searchParams.get('q') ?? '')
          return json(200, { items: [beef], next_page_token: null })
        }
        created.push(await request.json())
        return json(201, quoteFixture({ id: 'q2' }))
      }),
    )
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/quotes/new', name: 'quote-new', component: QuoteEditorView },
        { path: '/quotes/:id', name: 'quote', component: { template: '<p/>' } },
      ],
    })
    await router.push('/quotes/new')
    auth.me.value = { id: 'u1', role: 'sales' } as never
    const wrapper = mount(QuoteEditorView, { global: { plugins: [i18n, router, createPinia()] } })
    await flushPromises()
    const [customer, product] = wrapper.findAllComponents({ name: 'ElSelect' })
    await (product!.props('remoteMethod') as (q: string) => Promise<void>)('牛腩')
    await flushPromises()
    expect(searched).toEqual(['牛腩'])
    product!.vm.$emit('update:modelValue', 'p1')
    product!.vm.$emit('change', 'p1')
    await flushPromises()
    await wrapper.find('input#line-quantity-0').setValue('2')
    expect(wrapper.find('[data-test="line-amount-0"]').text()).toBe('¥256.00')
    expect(wrapper.find('[data-test="line-rate-0"]').text()).toBe('100.00%')

    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(created).toHaveLength(0)
    // Element Plus shows an item's message a moment after it turns red.
    await vi.waitFor(() => expect(wrapper.text()).toContain('请选择客户'))

    customer!.vm.$emit('update:modelValue', 'c7')
    await flushPromises()
    await wrapper.find('form').trigger('submit')
    await flushPromises()
    expect(created).toHaveLength(1)
    const { request_id: requestId, valid_until: validUntil, ...body } = created[0]!
    expect(body).toEqual({ customer_id: 'c7', lines: [{ product_id: 'p1', quantity: '2', quoted_price: null }], notes: '' })
    expect(requestId).toEqual(expect.any(String))
    expect(validUntil).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(router.currentRoute.value.params.id).toBe('q2')
  })
})
