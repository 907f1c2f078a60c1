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
})
