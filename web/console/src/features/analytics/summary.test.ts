import type { CustomerCount, CustomerSummary } from '@keyuan/shared'
import { describe, expect, it } from 'vitest'
import { countBy, countByNamed, shortId } from './summary'

const cell = (over: Partial<CustomerCount>): CustomerCount => ({
  org_unit_id: 'unit-west-lake-0001',
  org_unit_name: '西湖门店',
  owner_id: 'user-zhang-0001',
  owner_name: '张伟',
  lifecycle_stage: 'lead',
  type: '学校食堂',
  count: 1,
  ...over,
})
const summary = (counts: CustomerCount[]): CustomerSummary => ({ total: 0, counts, new_per_day: [] })

describe('the summary by org unit and by owner', () => {
  it('sums the cells of each unit under the name the summary gives, most first', () => {
    const rows = countByNamed(
      summary([
        cell({ count: 2 }),
        cell({ lifecycle_stage: 'signed', count: 3 }),
        cell({ org_unit_id: 'unit-hq-0001', org_unit_name: '总部', count: 4 }),
        cell({ org_unit_id: 'unit-hq-0001', org_unit_name: '总部', type: '酒店', count: 2 }),
      ]),
      'org_unit',
    )
    expect(rows).toEqual([
      { id: 'unit-hq-0001', label: '总部', count: 6 },
      { id: 'unit-west-lake-0001', label: '西湖门店', count: 5 },
    ])
  })

  it('names an owner or unit that is gone by the start of its id', () => {
    const gone = cell({ owner_id: '9f1c2d3e-4b5a-6789-abcd-0123456789ab', owner_name: '', count: 7 })
    expect(countByNamed(summary([cell({}), gone]), 'owner')).toEqual([
      { id: '9f1c2d3e-4b5a-6789-abcd-0123456789ab', label: '9f1c2d3e…', count: 7 },
      { id: 'user-zhang-0001', label: '张伟', count: 1 },
    ])
    expect(shortId('abc')).toBe('abc')
  })

  it('keeps two units of the same name apart', () => {
    const rows = countByNamed(summary([cell({ org_unit_id: 'a' }), cell({ org_unit_id: 'b' })]), 'org_unit')
    expect(rows.map((r) => [r.id, r.label])).toEqual([
      ['a', '西湖门店'],
      ['b', '西湖门店'],
    ])
  })

  it('sums by stage and by type', () => {
    const counts = summary([cell({ count: 2 }), cell({ lifecycle_stage: 'signed' }), cell({ type: '酒店', count: 5 })])
    expect(countBy(counts, 'lifecycle_stage')).toEqual(new Map([['lead', 7], ['signed', 1]]))
    expect(countBy(counts, 'type')).toEqual(new Map([['学校食堂', 3], ['酒店', 5]]))
  })
})
