import { describe, expect, it } from 'vitest'
import type { RevisitRateSummary } from './api'
import { defaultMonths, monthsBetween, percent, rateChartOption, rateRows, totalsByMonth } from './revisitRate'

const rate = (month: string, due: number, onTime: number, late = 0) => ({ month, due, done_on_time: onTime, done_late: late, rate: due ? onTime / due : 0 })

const summary: RevisitRateSummary = {
  by_assignee: [
    { ...rate('2026-11', 4, 3, 1), assignee_id: 'u1', assignee_kind: 'owner', assignee_name: '张伟' },
    { ...rate('2026-12', 2, 2), assignee_id: 'u1', assignee_kind: 'owner', assignee_name: '张伟' },
    { ...rate('2026-12', 4, 1, 2), assignee_id: 'u2', assignee_kind: 'owner', assignee_name: '李娜' },
    { ...rate('2026-11', 5, 5), assignee_id: '', assignee_kind: 'service', assignee_name: '' },
    { ...rate('2026-12', 1, 0), assignee_id: 'u9', assignee_kind: 'owner', assignee_name: '' },
    { ...rate('2026-08', 9, 0), assignee_id: 'u1', assignee_kind: 'owner', assignee_name: '张伟' },
  ],
  by_org_unit: [
    { ...rate('2026-11', 9, 8, 1), org_unit_id: 'o-hz', org_unit_name: '杭州分公司' },
    { ...rate('2026-12', 7, 3, 2), org_unit_id: 'o-hz', org_unit_name: '杭州分公司' },
  ],
  totals: [rate('2026-11', 9, 8, 1), rate('2026-12', 7, 3, 2)],
}
const labels = { serviceQueue: '客服队列', unknown: '（已不存在）' }

describe('回访率 on screen', () => {
  it('lists every month of the range, across a year end', () => {
    expect(monthsBetween('2026-11', '2027-02')).toEqual(['2026-11', '2026-12', '2027-01', '2027-02'])
    expect(monthsBetween('2026-12', '2026-11')).toEqual([])
    expect(monthsBetween('2026-1', '2026-02')).toEqual([])
  })

  it('defaults to five months back to this month in Shanghai', () => {
    // 2026-12-31 20:00 UTC is already 2027-01-01 in Shanghai.
    expect(defaultMonths(new Date('2026-12-31T20:00:00Z'))).toEqual(['2026-08', '2027-01'])
    expect(defaultMonths(new Date('2026-06-15T00:00:00Z'))).toEqual(['2026-01', '2026-06'])
  })

  it('makes a row per rep with each month and the range, lowest rate first, the service queue as one', () => {
    const rows = rateRows(summary, 'assignee', ['2026-11', '2026-12'], labels)
    expect(rows.map((r) => [r.label, r.total.due, r.total.onTime, r.total.rate])).toEqual([
      ['（已不存在）', 1, 0, 0],
      ['李娜', 4, 1, 0.25],
      ['张伟', 6, 5, 5 / 6],
      ['客服队列', 5, 5, 1],
    ])
    const zhang = rows.find((r) => r.label === '张伟')!
    expect(zhang.months['2026-11']).toEqual({ due: 4, onTime: 3, late: 1, rate: 0.75 })
    // A month outside the range (2026-08) counts nowhere; a month without tasks is a gap.
    expect(rows.find((r) => r.label === '李娜')!.months['2026-11']).toEqual({ due: 0, onTime: 0, late: 0, rate: null })
  })

  it('makes a row per org unit', () => {
    const rows = rateRows(summary, 'org_unit', ['2026-11', '2026-12'], labels)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ key: 'o-hz', label: '杭州分公司', total: { due: 16, onTime: 11, late: 3 } })
  })

  it('charts the due bars, the whole rate and a line per row on a percentage axis, gaps where nothing was due', () => {
    const months = ['2026-10', '2026-11', '2026-12']
    const rows = rateRows(summary, 'assignee', months, labels)
    const option = rateChartOption(months, totalsByMonth(summary, months), rows, { due: '应回访', total: '合计' })
    expect(option.xAxis.data).toEqual(months)
    expect(option.series[0]).toMatchObject({ type: 'bar', name: '应回访', yAxisIndex: 1, data: [0, 9, 7] })
    expect(option.series[1]).toMatchObject({ type: 'line', name: '合计', data: [null, 88.9, 42.9] })
    expect(option.series.slice(2).map((s) => [s.name, s.data])).toEqual([
      ['（已不存在）', [null, null, 0]],
      ['李娜', [null, null, 25]],
      ['张伟', [null, 75, 100]],
      ['客服队列', [null, 100, null]],
    ])
    expect(option.yAxis[0]).toMatchObject({ min: 0, max: 100 })
  })

  it('rounds a rate to a percentage with one decimal', () => {
    expect(percent(2 / 3)).toBe(66.7)
    expect(percent(null)).toBeNull()
  })
})
