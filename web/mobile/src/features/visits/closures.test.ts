import { describe, expect, it } from 'vitest'
import { i18n } from '../../app'
import type { Closure } from './api'
import { closureNotices, closureReason } from './closures'

const closure = (id: string, start: string, end: string, reason: Closure['reason'] = 'renovation', note = ''): Closure => ({
  id,
  customer_id: 'c1',
  start_date: start,
  end_date: end,
  reason,
  note,
  template_id: null,
  template_name: '',
  version: 1,
  created_at: '2026-12-01T10:00:00+08:00',
  updated_at: '2026-12-01T10:00:00+08:00',
})

describe('closures before a visit', () => {
  it('names the one covering today and the next two coming', () => {
    const items = [
      closure('now', '2026-12-01', '2026-12-05'),
      closure('a', '2026-12-20', '2026-12-22'),
      closure('b', '2027-01-23', '2027-02-20', 'winter_break'),
      closure('c', '2027-07-03', '2027-08-31', 'summer_break'),
    ]
    expect(closureNotices({ current: items[0]!, items }, '2026-12-03')).toEqual({ current: items[0], upcoming: [items[1], items[2]] })
    expect(closureNotices({ current: null, items: items.slice(1) }, '2026-12-03').current).toBeNull()
    expect(closureNotices(null, '2026-12-03')).toEqual({ current: null, upcoming: [] })
  })

  it('says the reason with its note, or the note alone for other', () => {
    i18n.global.locale.value = 'zh-CN'
    const t = (key: string, values?: Record<string, unknown>) => i18n.global.t(key, values ?? {})
    expect(closureReason(t, { reason: 'renovation', note: '后厨装修' })).toBe('装修（后厨装修）')
    expect(closureReason(t, { reason: 'winter_break', note: '寒假' })).toBe('寒假')
    expect(closureReason(t, { reason: 'other', note: '盘点' })).toBe('盘点')
  })
})
