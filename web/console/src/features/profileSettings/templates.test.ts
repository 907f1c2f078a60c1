import { describe, expect, it } from 'vitest'
import { i18n } from '../../app'
import type { ApplyResult, ClosureTemplate } from './api'
import {
  applyFilter,
  applyReport,
  applySummary,
  checkTemplate,
  createBody,
  patchBody,
  rangeDraft,
  rangeLines,
  reportHasProblems,
  templateDraft,
  type TemplateDraft,
} from './templates'

const t = (key: string, values?: Record<string, unknown>) => i18n.global.t(key, values ?? {})

const draft = (ranges: Parameters<typeof rangeDraft>[0][], name = '2027 杭州中小学校历'): TemplateDraft => ({
  name,
  ranges: ranges.map((range) => rangeDraft(range)),
})

const stored: ClosureTemplate = {
  id: 'tpl1',
  name: '2027 杭州中小学校历',
  ranges: [
    { id: 'r-summer', start_date: '2027-07-03', end_date: '2027-08-31', reason: 'summer_break', note: '' },
    { id: 'r-winter', start_date: '2027-01-23', end_date: '2027-02-20', reason: 'winter_break', note: '寒假' },
  ],
  customer_count: 23,
  version: 3,
  created_at: '2026-12-01T10:00:00+08:00',
  updated_at: '2026-12-02T10:00:00+08:00',
}

const keys = (found: Record<string, { key: string }>) => Object.fromEntries(Object.entries(found).map(([f, m]) => [f, m.key]))

describe('checking a calendar template before sending it', () => {
  i18n.global.locale.value = 'zh-CN'

  it('passes a school year of two breaks', () => {
    expect(
      checkTemplate(
        draft([
          { start_date: '2027-01-23', end_date: '2027-02-20', reason: 'winter_break' },
          { start_date: '2027-07-03', end_date: '2027-08-31', reason: 'summer_break' },
        ]),
      ),
    ).toEqual({})
  })

  it('needs a name, dates, a reason and, for other, a note — each on its own field', () => {
    const found = checkTemplate(draft([{ start_date: '', end_date: '', reason: undefined }, { start_date: '2027-03-01', end_date: '2027-03-02', reason: 'other', note: '  ' }], ' '))
    expect(keys(found)).toEqual({
      name: 'validation.required',
      'ranges[0].start_date': 'validation.required',
      'ranges[0].end_date': 'validation.required',
      'ranges[0].reason': 'validation.required',
      'ranges[1].note': 'closureTemplates.noteRequired',
    })
  })

  it('refuses an end before the start, a span over 366 days and years outside 2000–2099', () => {
    const found = checkTemplate(
      draft([
        { start_date: '2027-02-20', end_date: '2027-01-23', reason: 'winter_break' },
        { start_date: '2028-01-01', end_date: '2029-01-01', reason: 'renovation' },
        { start_date: '2207-01-01', end_date: '2207-01-05', reason: 'renovation' },
      ]),
    )
    expect(keys(found)).toEqual({
      'ranges[0].end_date': 'closureTemplates.endBeforeStart',
      'ranges[1].end_date': 'closureTemplates.tooLong',
      'ranges[2].start_date': 'closureTemplates.yearRange',
      'ranges[2].end_date': 'closureTemplates.yearRange',
    })
    // 2028 is a leap year: 2028-01-01 to 2028-12-31 is exactly 366 days and allowed.
    expect(checkTemplate(draft([{ start_date: '2028-01-01', end_date: '2028-12-31', reason: 'renovation' }]))).toEqual({})
  })

  it('reports an overlap on the later range’s start, naming the earlier one, whatever the rows’ order', () => {
    const found = checkTemplate(
      draft([
        { start_date: '2027-02-15', end_date: '2027-02-25', reason: 'spring_festival' },
        { start_date: '2027-01-23', end_date: '2027-02-15', reason: 'winter_break' },
      ]),
    )
    expect(found).toEqual({
      'ranges[0].start_date': { key: 'closureTemplates.overlaps', values: { start: '2027-01-23', end: '2027-02-15' } },
    })
    expect(t(found['ranges[0].start_date']!.key, found['ranges[0].start_date']!.values)).toBe('与 2027-01-23 至 2027-02-15 的时段重叠')
  })

  it('lets ranges touch day to day', () => {
    expect(
      checkTemplate(
        draft([
          { start_date: '2027-01-23', end_date: '2027-02-09', reason: 'winter_break' },
          { start_date: '2027-02-10', end_date: '2027-02-17', reason: 'spring_festival' },
        ]),
      ),
    ).toEqual({})
  })

  it('needs at least one range and at most twenty', () => {
    expect(keys(checkTemplate(draft([])))).toEqual({ ranges: 'closureTemplates.noRanges' })
    const many = Array.from({ length: 21 }, (_, i) => ({
      start_date: `2027-${String((i % 12) + 1).padStart(2, '0')}-01`,
      end_date: `2027-${String((i % 12) + 1).padStart(2, '0')}-01`,
      reason: 'other' as const,
      note: 'x',
    }))
    expect(checkTemplate(draft(many)).ranges).toEqual({ key: 'validation.maxItems', values: { max: 20 } })
  })
})

describe('the bodies a template form sends', () => {
  it('creates with trimmed texts and no range ids', () => {
    const form = draft([{ start_date: '2027-01-23', end_date: '2027-02-20', reason: 'winter_break', note: ' 寒假 ' }], ' 校历 ')
    expect(createBody(form, 'req-1')).toEqual({
      name: '校历',
      ranges: [{ start_date: '2027-01-23', end_date: '2027-02-20', reason: 'winter_break', note: '寒假' }],
      request_id: 'req-1',
    })
  })

  it('changes the whole list: stored ranges keep their ids, new ones have none, with the version', () => {
    const form = templateDraft(stored)
    form.ranges[0]!.end_date = '2027-08-30'
    form.ranges.splice(1, 1)
    form.ranges.push(rangeDraft({ start_date: '2027-10-01', end_date: '2027-10-07', reason: 'other', note: '国庆' }))
    expect(patchBody(form, stored)).toEqual({
      name: stored.name,
      expected_version: 3,
      ranges: [
        { id: 'r-summer', start_date: '2027-07-03', end_date: '2027-08-30', reason: 'summer_break', note: '' },
        { start_date: '2027-10-01', end_date: '2027-10-07', reason: 'other', note: '国庆' },
      ],
    })
  })

  it('sends only the filter fields chosen, and no filter when none is', () => {
    expect(applyFilter({ type: '学校食堂', tag: ' ', owner_id: '', lifecycle_stage: undefined })).toEqual({ type: '学校食堂' })
    expect(applyFilter({ type: '', tag: '' })).toBeNull()
  })

  it('lists the ranges by date with their reason and length', () => {
    i18n.global.locale.value = 'zh-CN'
    expect(rangeLines(t, stored)).toEqual(['2027-01-23 至 2027-02-20 寒假（29 天）', '2027-07-03 至 2027-08-31 暑假（60 天）'])
  })
})

describe('the apply report', () => {
  const result: ApplyResult = {
    applied_customer_ids: ['c1', 'c2', 'c3'],
    already_applied_customer_ids: ['c4'],
    not_found_customer_ids: ['c5', 'c6'],
    conflicts: [
      {
        customer_id: 'c7',
        customer_name: '滨江实验小学食堂',
        closure: {
          id: 'cl1',
          customer_id: 'c7',
          start_date: '2027-02-01',
          end_date: '2027-02-10',
          reason: 'renovation',
          note: '',
          template_id: null,
          template_name: '',
          version: 1,
          created_at: '2026-12-01T10:00:00+08:00',
          updated_at: '2026-12-01T10:00:00+08:00',
        },
      },
    ],
  }

  it('counts each outcome and names the picked customers that were not found', () => {
    const report = applyReport(result, new Map([['c5', '城南小学食堂']]))
    expect(report).toMatchObject({ applied: 3, already: 1, notFound: 2, conflicts: 1, notFoundNames: ['城南小学食堂'] })
    expect(report.conflictRows).toEqual([
      {
        key: 'c7-0',
        customerId: 'c7',
        customerName: '滨江实验小学食堂',
        start: '2027-02-01',
        end: '2027-02-10',
        reason: 'renovation',
        templateName: '',
        range: null,
      },
    ])
    expect(reportHasProblems(report)).toBe(true)
  })

  it('gives a row per overlap, naming the template range each own closure is in the way of', () => {
    const closure = result.conflicts[0]!.closure
    const later = { ...closure, id: 'cl2', start_date: '2027-08-20', end_date: '2027-09-05' }
    const winter = { id: 'r1', start_date: '2027-01-23', end_date: '2027-02-20', reason: 'winter_break' as const, note: '' }
    const summer = { id: 'r2', start_date: '2027-07-03', end_date: '2027-08-31', reason: 'summer_break' as const, note: '' }
    const report = applyReport({
      ...result,
      conflicts: [{ ...result.conflicts[0]!, overlaps: [{ closure, range: winter }, { closure: later, range: summer }] }],
    })
    expect(report.conflictRows.map((row) => [row.key, row.customerName, row.start, row.range?.start, row.range?.reason])).toEqual([
      ['c7-0', '滨江实验小学食堂', '2027-02-01', '2027-01-23', 'winter_break'],
      ['c7-1', '滨江实验小学食堂', '2027-08-20', '2027-07-03', 'summer_break'],
    ])
    expect(report.conflicts).toBe(1)
  })

  it('says it in one sentence, leaving out what is zero', () => {
    i18n.global.locale.value = 'zh-CN'
    expect(applySummary(t, applyReport(result))).toBe(
      '新应用 3 个客户，1 个此前已应用，2 个未找到、已归档或无权修改，1 个因自有停工冲突未应用',
    )
    const clean = applyReport({ ...result, already_applied_customer_ids: [], not_found_customer_ids: [], conflicts: [] })
    expect(applySummary(t, clean)).toBe('新应用 3 个客户')
    expect(reportHasProblems(clean)).toBe(false)
    i18n.global.locale.value = 'en'
    expect(applySummary(t, clean)).toBe('Applied to 3 customers')
    i18n.global.locale.value = 'zh-CN'
  })
})
