import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { json } from '@keyuan/shared/testing/answers.ts'
import { auth, i18n } from '../../app'
import AnalyticsView from './AnalyticsView.vue'

// Charts draw on a canvas jsdom does not have; the lists beside them carry the same numbers.
vi.mock('vue-echarts', () => ({ default: { name: 'VChart', props: ['option'], template: '<div class="chart-stub" />' } }))

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
    const wrapper = mount(AnalyticsView, { global: { plugins: [i18n] } })
    await flushPromises()
    expect(wrapper.find('[data-test="analytics-by-org-unit"]').text()).toBe('西湖门店：4o-2：2')
    expect(wrapper.find('[data-test="analytics-by-owner"]').text()).toBe('张伟：4d41d8cd9…：2')
    expect(paths).toEqual(['/api/v1/analytics/customer-summary'])
  })
})
