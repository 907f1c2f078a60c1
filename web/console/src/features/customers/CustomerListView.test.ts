import { flushPromises, mount } from '@vue/test-utils'
import { createPinia } from 'pinia'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { json, problem } from '@keyuan/shared/testing/answers.ts'
import { auth, i18n } from '../../app'
import CustomerListView from './CustomerListView.vue'

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
  updated_at: '2026-12-03T09:30:00+08:00',
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
        if (fail) return problem(503, 'service_unavailable', '服务暂不可用')
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

  it('sorts by the clicked column on the server from the first page, and not while a search ranks the results', async () => {
    const lists: URLSearchParams[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const url = new URL(request.url)
        if (url.pathname === '/api/v1/customer-types') return json(200, { items: [] })
        lists.push(url.searchParams)
        return json(200, { items: [customer('c1', '杭州食堂')], next_page_token: 'next' })
      }),
    )
    const wrapper = await mountList()
    const header = (label: string) => wrapper.findAll('th').find((th) => th.text().includes(label))!
    const last = () => lists[lists.length - 1]!
    expect(last().get('sort')).toBeNull()
    expect(header('创建时间').classes()).toContain('descending')

    await header('客户名称').trigger('click')
    await flushPromises()
    expect(last().get('sort')).toBe('name')
    expect(last().get('page_token')).toBe('')
    expect(header('客户名称').classes()).toContain('ascending')
    await header('客户名称').trigger('click')
    await flushPromises()
    expect(last().get('sort')).toBe('-name')
    await header('更新时间').trigger('click')
    await flushPromises()
    expect(last().get('sort')).toBe('-updated_at')
    expect(wrapper.find('[data-test="customer-table"]').text()).toContain('2026-12-03 09:30')

    vi.useFakeTimers()
    await wrapper.find('input#customer-search').setValue('hzst')
    await vi.advanceTimersByTimeAsync(300)
    vi.useRealTimers()
    await flushPromises()
    expect(last().get('q')).toBe('hzst')
    expect(last().get('sort')).toBeNull()
    expect(wrapper.find('[data-test="list-order-hint"]').text()).toBe('搜索结果按相关度排序，筛选条件仍然生效')
    expect(header('客户名称').classes()).not.toContain('is-sortable')
    expect(header('更新时间').classes()).not.toContain('descending')
    const searches = lists.length
    await header('客户名称').trigger('click')
    await flushPromises()
    expect(lists).toHaveLength(searches)

    // Back from the search: the order chosen before, and its arrow.
    vi.useFakeTimers()
    await wrapper.find('input#customer-search').setValue('')
    await vi.advanceTimersByTimeAsync(300)
    vi.useRealTimers()
    await flushPromises()
    expect(last().get('q')).toBeNull()
    expect(last().get('sort')).toBe('-updated_at')
    expect(header('更新时间').classes()).toContain('descending')
  })

  it('tags a search result with its special requirements', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const url = new URL(request.url)
        if (url.pathname === '/api/v1/customer-types') return json(200, { items: [] })
        const halal = {
          ...customer('c1', '西湖清真食堂'),
          alerts: [
            { kind: 'halal', label: '清真', text: '清真' },
            { kind: 'allergens', label: '过敏原', text: '过敏原：花生、虾' },
          ],
        }
        return json(200, { items: [halal, customer('c2', '杭州食堂')], next_page_token: null })
      }),
    )
    const wrapper = await mountList()
    const tags = wrapper.findAll('[data-test="customer-alert-tags"]')
    expect(tags).toHaveLength(1)
    expect(tags[0]!.text()).toContain('清真')
    expect(tags[0]!.text()).toContain('过敏原：花生、虾')
  })
})
