import type { OwnershipSummary } from '@keyuan/shared'
import { describe, expect, it } from 'vitest'
import { seriesPerDayOption } from './charts'
import { coverageLowestFirst, daysBetween, movementsPerDay, poolSizes } from './ownership'

const summary: OwnershipSummary = {
  pools: [
    { pool_id: 'p-hz', pool_name: '杭州公海', customers: 4 },
    { pool_id: 'p-sh', pool_name: '上海公海', customers: 9 },
    { pool_id: 'p-x', pool_name: '', customers: 1 },
  ],
  movements: [
    { date: '2026-11-30', pool_id: 'p-hz', kind: 'released', count: 2 },
    { date: '2026-11-30', pool_id: 'p-sh', kind: 'released', count: 1 },
    { date: '2026-12-02', pool_id: 'p-hz', kind: 'claimed', count: 3 },
    { date: '2026-12-02', pool_id: 'p-sh', kind: 'returned', count: 5 },
    { date: '2026-11-01', pool_id: 'p-sh', kind: 'claimed', count: 7 },
  ],
  coverage: [
    { owner_id: 'u1', owner_name: '张伟', customers: 10, contacted_30d: 9, share: 0.9 },
    { owner_id: 'u2', owner_name: '李娜', customers: 4, contacted_30d: 1, share: 0.25 },
    { owner_id: 'u3', owner_name: '', customers: 8, contacted_30d: 2, share: 0.25 },
    { owner_id: 'u4', owner_name: '王磊', customers: 0, contacted_30d: 0, share: 0 },
  ],
}

describe('the ownership summary on screen', () => {
  it('lists every Shanghai day of the range, across a month end', () => {
    expect(daysBetween('2026-11-29', '2026-12-02')).toEqual(['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02'])
    expect(daysBetween('2026-12-02', '2026-12-01')).toEqual([])
  })

  it('sums each kind per day over the pools, zeros on quiet days, nothing outside the range', () => {
    const { days, counts } = movementsPerDay(summary, '2026-11-30', '2026-12-02')
    expect(days).toEqual(['2026-11-30', '2026-12-01', '2026-12-02'])
    expect(counts).toEqual({ claimed: [0, 0, 3], returned: [0, 0, 5], released: [3, 0, 0] })
  })

  it('narrows the days to one pool', () => {
    expect(movementsPerDay(summary, '2026-11-30', '2026-12-02', 'p-hz').counts).toEqual({
      claimed: [0, 0, 3],
      returned: [0, 0, 0],
      released: [2, 0, 0],
    })
  })

  it('charts one bar series per kind over the days', () => {
    const option = seriesPerDayOption(['2026-12-01', '2026-12-02'], [{ name: '领取', data: [0, 3] }])
    expect(option.xAxis.data).toEqual(['2026-12-01', '2026-12-02'])
    expect(option.series).toEqual([{ type: 'bar', name: '领取', data: [0, 3] }])
  })

  it('orders pools by size and names one the caller may not open as unknown', () => {
    expect(poolSizes(summary, '（未知）')).toEqual([
      { label: '上海公海', value: 9 },
      { label: '杭州公海', value: 4 },
      { label: '（未知）', value: 1 },
    ])
  })

  it('puts the lowest coverage first, the bigger book first among equals, with names', () => {
    const rows = coverageLowestFirst(summary, '（未知）')
    expect(rows.map((r) => [r.label, r.share])).toEqual([
      ['王磊', 0],
      ['（未知）', 0.25],
      ['李娜', 0.25],
      ['张伟', 0.9],
    ])
  })
})
