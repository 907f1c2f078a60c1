import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter } from 'vue-router'
import { json } from '@keyuan/shared/testing/answers.ts'
import { auth, i18n } from '../../app'
import AnalyticsView from './AnalyticsView.vue'

// Charts draw on a canvas jsdom does not have; the lists beside them carry the same numbers.
vi.mock('vue-echarts', () => ({ default: { name: 'VChart', props: ['option'], template: '<div class="chart-stub" />' } }))

async function mountAt(path: string) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/analytics/:section(customers|ownership|revisits)?', name: 'analytics', component: AnalyticsView, props: true }],
  })
  await router.push(path)
  const wrapper = mount({ template: '<router-view />' }, { global: { plugins: [i18n, router] } })
  await flushPromises()
  return wrapper
}

describe('AnalyticsView', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('names org units and owners as the summary does, without reading the directory', async () => {
    const paths: string[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        paths.push(new URL(request.url).pathname)
        return json(200, {
          total: 6,
          new_per_day: [],
          counts: [
            { org_unit_id: 'o-1', org_unit_name: '西湖门店', owner_id: 'u-1', owner_name: '张伟', lifecycle_stage: 'lead', type: '', count: 4 },
            { org_unit_id: 'o-2', org_unit_name: '', owner_id: 'd41d8cd9-8f00-b204', owner_name: '', lifecycle_stage: 'signed', type: '酒店', count: 2 },
          ],
        })
      }),
    )
    auth.me.value = { role: 'sales' } as never
    const wrapper = await mountAt('/analytics')
    expect(wrapper.find('[data-test="analytics-by-org-unit"]').text()).toBe('西湖门店：4o-2：2')
    expect(wrapper.find('[data-test="analytics-by-owner"]').text()).toBe('张伟：4d41d8cd9…：2')
    expect(paths).toEqual(['/api/v1/analytics/customer-summary'])
  })

  it('shows pools, movements per day and coverage lowest first, by name, on the ownership tab', async () => {
    const asked: URL[] = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const url = new URL(request.url)
        asked.push(url)
        if (url.pathname === '/api/v1/analytics/customer-summary') return json(200, { total: 0, counts: [], new_per_day: [] })
        return json(200, {
          pools: [
            { pool_id: 'p-hz', pool_name: '杭州公海', customers: 3 },
            { pool_id: 'p-sh', pool_name: '上海公海', customers: 8 },
          ],
          movements: [
            { date: url.searchParams.get('to'), pool_id: 'p-hz', kind: 'claimed', count: 2 },
            { date: url.searchParams.get('to'), pool_id: 'p-sh', kind: 'released', count: 1 },
          ],
          coverage: [
            { owner_id: 'u-1', owner_name: '张伟', customers: 10, contacted_30d: 9, share: 0.9 },
            { owner_id: 'u-2', owner_name: '李娜', customers: 4, contacted_30d: 1, share: 0.25 },
          ],
        })
      }),
    )
    auth.me.value = { role: 'supervisor' } as never
    const wrapper = await mountAt('/analytics/ownership')
    // The tab's code loads with it.
    await vi.waitFor(() => expect(wrapper.find('[data-test="analytics-coverage"] tbody tr').exists()).toBe(true))
    const ownership = asked.find((url) => url.pathname === '/api/v1/analytics/ownership')!
    expect(ownership.searchParams.get('from')).toMatch(/^\d{4}-\d{2}-\d{2}$/)
    expect(wrapper.find('[data-test="analytics-pool-sizes"]').text()).toBe('上海公海：8杭州公海：3')
    expect(wrapper.find('[data-test="analytics-movement-totals"]').text()).toBe('领取：2按规则退回：0释放：1')
    const owners = wrapper.findAll('[data-test="analytics-coverage"] tbody tr').map((row) => row.find('td').text())
    expect(owners).toEqual(['李娜', '张伟'])
    expect(wrapper.find('[data-test="analytics-coverage"]').text()).toContain('25%')
  })

  it('shows 回访率 by month on its tab, the whole scope first, then each rep lowest first, with its own month range', async () => {
    const asked: URL[] = []
    const rate = (month: string, due: number, onTime: number) => ({ month, due, done_on_time: onTime, done_late: due - onTime, rate: onTime / due })
    vi.stubGlobal(
      'fetch',
      vi.fn(async (request: Request) => {
        const url = new URL(request.url)
        asked.push(url)
        if (url.pathname !== '/api/v1/analytics/revisit-rate') return json(200, { total: 0, counts: [], new_per_day: [] })
        return json(200, {
          by_assignee: [
            { ...rate('2026-11', 4, 4), assignee_id: 'u1', assignee_kind: 'owner', assignee_name: '张伟' },
            { ...rate('2026-12', 4, 1), assignee_id: 'u2', assignee_kind: 'owner', assignee_name: '李娜' },
          ],
          by_org_unit: [{ ...rate('2026-12', 8, 5), org_unit_id: 'o1', org_unit_name: '杭州分公司' }],
          totals: [rate('2026-11', 4, 4), rate('2026-12', 4, 1)],
        })
      }),
    )
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-03T10:00:00+08:00') })
    i18n.global.locale.value = 'zh-CN'
    auth.me.value = { role: 'supervisor' } as never
    const wrapper = await mountAt('/analytics/revisits')
    // The tab's component loads on demand.
    await vi.waitFor(() => expect(wrapper.find('[data-test="revisit-rate-table"]').exists()).toBe(true))
    await flushPromises()
    vi.useRealTimers()
    const call = asked.find((url) => url.pathname === '/api/v1/analytics/revisit-rate')!
    expect([call.searchParams.get('from'), call.searchParams.get('to')]).toEqual(['2026-07', '2026-12'])
    expect(wrapper.find('[data-test="analytics-range"]').exists()).toBe(false)
    expect(wrapper.find('[data-test="revisit-rate-overall"]').text()).toContain('63%')
    const rows = wrapper.findAll('[data-test="revisit-rate-table"] .el-table__body-wrapper tr').map((row) => row.text())
    expect(rows).toHaveLength(3)
    expect(rows[0]).toMatch(/^合计.*100%（4\/4）.*25%（1\/4）.*63%（5\/8）/)
    expect(rows[1]).toMatch(/^李娜.*25%（1\/4）/)
    expect(rows[2]).toMatch(/^张伟.*100%（4\/4）/)
    await wrapper.find('[data-test="revisit-rate-by-org-unit"] input').setValue(true)
    await flushPromises()
    const units = wrapper.findAll('[data-test="revisit-rate-table"] .el-table__body-wrapper tr').map((row) => row.text())
    expect(units).toHaveLength(2)
    expect(units[1]).toMatch(/^杭州分公司.*63%（5\/8）/)
  })
})
