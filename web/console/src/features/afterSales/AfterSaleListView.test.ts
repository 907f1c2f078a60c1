import { flushPromises, mount } from '@vue/test-utils'
import { json } from '@keyuan/shared/testing/answers.ts'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import AfterSaleListView from './AfterSaleListView.vue'
import { afterSaleFixture } from './fixtures'

function gateway() {
  const asked: URLSearchParams[] = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (request: Request) => {
      const url = new URL(request.url)
      asked.push(url.searchParams)
      return json(200, { items: [afterSaleFixture({ refund_amount: '12345.6', type: 'refund_only' })], next_page_token: null })
    }),
  )
  return asked
}

async function mountList(path: string, role: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/after-sales', name: 'after-sales', component: AfterSaleListView },
      { path: '/after-sales/:id', name: 'after-sale', component: { template: '<p/>' } },
    ],
  })
  await router.push(path)
  auth.me.value = { id: 'u9', role } as never
  const wrapper = mount(AfterSaleListView, { global: { plugins: [i18n, router, createPinia()] } })
  await flushPromises()
  return wrapper
}

describe('the after-sale list', () => {
  afterEach(() => vi.unstubAllGlobals())

  it("opens a supervisor's 待我审批 from the link, asking for the after-sales awaiting their decision", async () => {
    const asked = gateway()
    const wrapper = await mountList('/after-sales?tab=awaiting', 'supervisor')
    expect(asked.at(-1)!.get('awaiting_my_decision')).toBe('true')
    expect(wrapper.text()).toContain('¥12,345.60')
    expect(wrapper.text()).toContain('仅退款')
    expect(wrapper.text()).toContain('待审批')
  })

  it('shows a rep every after-sale without the approval tab', async () => {
    const asked = gateway()
    const wrapper = await mountList('/after-sales?tab=awaiting', 'sales')
    expect(asked.at(-1)!.get('awaiting_my_decision')).toBeNull()
    expect(wrapper.text()).not.toContain('待我审批')
    expect(wrapper.find('[data-test=after-sale-type-filter]').exists()).toBe(true)
  })
})
