import { flushPromises, mount } from '@vue/test-utils'
import { json } from '@keyuan/shared/testing/answers.ts'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import { quoteFixture } from './fixtures'
import QuoteListView from './QuoteListView.vue'

function gateway() {
  const asked: URLSearchParams[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      if (url.pathname === '/api/v1/quotes') {
        asked.push(url.searchParams)
        return json(200, {
          items: [quoteFixture({ status: 'pending_approval', total_amount: '12345.6', discount_rate: '85.00', needs_approval: true })],
          next_page_token: null,
        })
      }
      return json(200, { items: [], next_page_token: null })
    }),
  )
  return asked
}

async function mountList(path: string, role: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/quotes', name: 'quotes', component: QuoteListView },
      { path: '/quotes/new', name: 'quote-new', component: { template: '<p/>' } },
      { path: '/quotes/:id', name: 'quote', component: { template: '<p/>' } },
    ],
  })
  await router.push(path)
  auth.me.value = { id: 'u9', role } as never
  const wrapper = mount(QuoteListView, { global: { plugins: [i18n, router, createPinia()] } })
  await flushPromises()
  return wrapper
}

describe('the quote list', () => {
  afterEach(() => vi.unstubAllGlobals())

  it("opens a supervisor's 待我审批 from the link, asking for the quotes awaiting their decision", async () => {
    const asked = gateway()
    const wrapper = await mountList('/quotes?tab=awaiting', 'supervisor')
    expect(asked.at(-1)!.get('awaiting_my_decision')).toBe('true')
    expect(wrapper.text()).toContain('¥12,345.60')
    expect(wrapper.text()).toContain('85.00%')
    expect(wrapper.text()).toContain('待审批')
  })

  it("shows a rep every quote, or one customer's, without the approval tab", async () => {
    const asked = gateway()
    const wrapper = await mountList('/quotes?customer=c7&tab=awaiting', 'sales')
    expect(asked.at(-1)!.get('awaiting_my_decision')).toBeNull()
    expect(asked.at(-1)!.get('customer_id')).toBe('c7')
    expect(wrapper.text()).not.toContain('待我审批')
  })
})
