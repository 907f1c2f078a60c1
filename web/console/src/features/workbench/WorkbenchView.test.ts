import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { json } from '@keyuan/shared/testing/answers.ts'
import { auth, i18n } from '../../app'
import WorkbenchView from './WorkbenchView.vue'

describe('WorkbenchView', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('lists the most recently changed customers, with when they changed', async () => {
    const lists: URLSearchParams[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const url = new URL(request.url)
        if (url.pathname === '/api/v1/analytics/customer-summary') return json(200, { total: 1, counts: [], new_per_day: [] })
        if (url.pathname === '/api/v1/follow-up-tasks') return json(200, { items: [], next_page_token: null })
        if (url.pathname === '/api/v1/revisit-tasks') return json(200, { items: [], next_page_token: null })
        lists.push(url.searchParams)
        return json(200, {
          items: [
            {
              id: 'c1',
              name: '杭州实验小学食堂',
              lifecycle_stage: 'signed',
              created_at: '2025-03-01T08:00:00+08:00',
              updated_at: '2026-12-02T15:04:00+08:00',
            },
          ],
          next_page_token: null,
        })
      }),
    )
    auth.me.value = { role: 'sales', display_name: '张伟' } as never
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/', component: WorkbenchView },
        { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
      ],
    })
    await router.push('/')
    const wrapper = mount(WorkbenchView, { global: { plugins: [i18n, router] } })
    await flushPromises()
    expect(lists).toHaveLength(1)
    expect(lists[0]!.get('sort')).toBe('-updated_at')
    const recent = wrapper.find('[data-test="recent-customers"]').text()
    expect(recent).toContain('杭州实验小学食堂')
    expect(recent).toContain('2026-12-02 15:04')
    expect(recent).not.toContain('2025-03-01')
    expect(wrapper.text()).toContain('最近更新的客户')
  })

  it('lists overdue follow-ups before today’s, each linking to its customer', async () => {
    const dues: string[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const url = new URL(request.url)
        if (url.pathname === '/api/v1/follow-up-tasks') {
          const due = url.searchParams.get('due')!
          dues.push(due)
          const task = (id: string, name: string, date: string) => ({
            customer_id: id,
            customer_name: name,
            owner_id: 'u1',
            owner_name: '张伟',
            org_unit_id: 'o1',
            next_follow_up_date: date,
            last_interaction_at: null,
          })
          return json(200, {
            items: due === 'overdue' ? [task('c1', '西湖大酒店', '2026-11-28')] : [task('c2', '滨江小学食堂', '2026-12-02')],
            next_page_token: null,
          })
        }
        if (url.pathname === '/api/v1/analytics/customer-summary') return json(200, { total: 0, counts: [], new_per_day: [] })
        return json(200, { items: [], next_page_token: null })
      }),
    )
    auth.me.value = { role: 'sales', display_name: '张伟' } as never
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/', component: WorkbenchView },
        { path: '/customers/:id', name: 'customer', component: { template: '<p/>' } },
      ],
    })
    await router.push('/')
    const wrapper = mount(WorkbenchView, { global: { plugins: [i18n, router] } })
    await flushPromises()
    expect(dues.sort()).toEqual(['overdue', 'today'])
    const rows = wrapper.findAll('[data-test="task-list"] li')
    expect(rows.map((row) => row.attributes('data-test'))).toEqual(['task-overdue', 'task-today'])
    expect(rows[0]!.text()).toContain('西湖大酒店')
    expect(rows[0]!.text()).toContain('2026-11-28')
    expect(rows[0]!.find('a').attributes('href')).toBe('/customers/c1?tab=followUps')
    expect(rows[1]!.text()).toContain('从未跟进')
  })
})
