import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { auth, i18n } from '../../app'
import CustomerListView from './CustomerListView.vue'

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
  })

const customer = (id: string, name: string) => ({
  id,
  name,
  short_name: '',
  type: '学校食堂',
  tags: [],
  lifecycle_stage: 'signed',
  owner_id: 'u1',
  owner_name: '王磊',
  org_unit_id: 'o1',
  contacts: [],
  created_at: '2026-12-02T10:00:00+08:00',
})

async function mountList() {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/customers', name: 'customers', component: CustomerListView },
      { path: '/customers/new', name: 'customer-new', component: { template: '<p/>' } },
      { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
    ],
  })
  await router.push('/customers')
  auth.me.value = { role: 'sales' } as never
  const wrapper = mount(CustomerListView, { global: { plugins: [i18n, router, createPinia()] } })
  await flushPromises()
  return wrapper
}

describe('CustomerListView', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.useRealTimers()
  })

  it('shows a retry after a failed load, and the customers once it works', async () => {
    let fail = true
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const path = new URL(request.url).pathname
        if (path === '/api/v1/customer-types') return json(200, { items: [] })
        if (fail) return json(503, { type: 't', title: 't', status: 503, code: 'service_unavailable', detail: '服务暂不可用' })
        return json(200, { items: [customer('c1', '杭州实验小学食堂')], next_page_token: null })
      }),
    )
    const wrapper = await mountList()
    expect(wrapper.find('[data-test="error-message"]').text()).toBe('服务暂不可用（错误码：service_unavailable）')
    fail = false
    await wrapper.find('[data-test="retry"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-test="customer-table"]').text()).toContain('杭州实验小学食堂')
    expect(wrapper.find('[data-test="list-end"]').exists()).toBe(true)
  })

  it('searches as the user types, 300 ms after the last key, and says when nothing matches', async () => {
    const queries: string[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const url = new URL(request.url)
        if (url.pathname === '/api/v1/customer-types') return json(200, { items: [] })
        queries.push(url.searchParams.get('q') ?? '')
        return json(200, { items: url.searchParams.get('q') ? [] : [customer('c1', '杭州食堂')], next_page_token: 'next' })
      }),
    )
    const wrapper = await mountList()
    expect(wrapper.find('[data-test="load-more"]').exists()).toBe(true)
    vi.useFakeTimers()
    await wrapper.find('input#customer-search').setValue('xh')
    await wrapper.find('input#customer-search').setValue('xhsy')
    await vi.advanceTimersByTimeAsync(299)
    expect(queries).toEqual([''])
    await vi.advanceTimersByTimeAsync(1)
    vi.useRealTimers()
    await flushPromises()
    expect(queries).toEqual(['', 'xhsy'])
    expect(wrapper.find('[data-test="customer-table"]').text()).toContain('没有找到匹配“xhsy”的客户')
  })
})
