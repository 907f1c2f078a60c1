// A closure calendar template (校历) as its form edits it, the checks the customer service makes
// before it would refuse one, the bodies the form sends, and the apply report in a few words.
import { calendarDaysBetween, declared, firstProblem, limitOf, type FieldMessage } from '@keyuan/shared'
import type {
  ApplyFilter,
  ApplyResult,
  ClosureReason,
  ClosureTemplate,
  ClosureTemplateInput,
  ClosureTemplatePatch,
  TemplateRangeInput,
} from './api'

/** Every reason, in the order the form offers them (the compiler holds it to the API's enum). */
const REASON_SET: Record<ClosureReason, true> = {
  winter_break: true,
  summer_break: true,
  spring_festival: true,
  factory_shutdown: true,
  renovation: true,
  other: true,
}
export const CLOSURE_REASONS = Object.keys(REASON_SET) as ClosureReason[]

/** The customer service's bounds (crm_customer/closures/validation.py). */
export const MAX_SPAN_DAYS = 366
export const FIRST_YEAR = 2000
export const LAST_YEAR = 2099
export const MAX_RANGES = limitOf('TemplateIn', 'ranges').maxItems ?? 20

export interface RangeDraft {
  /** The stored range this row changes; null for a new one. */
  id: string | null
  /** A stable key for the row while it is edited. */
  key: number
  start_date: string
  end_date: string
  reason: ClosureReason | ''
  note: string
}

export interface TemplateDraft {
  name: string
  ranges: RangeDraft[]
}

let rowKeys = 0

export function rangeDraft(range?: Partial<TemplateRangeInput>): RangeDraft {
  rowKeys += 1
  return {
    id: range?.id ?? null,
    key: rowKeys,
    start_date: range?.start_date ?? '',
    end_date: range?.end_date ?? '',
    reason: range?.reason ?? '',
    note: range?.note ?? '',
  }
}

/** A new template's form (one empty range), or a stored one's. */
export function templateDraft(template?: ClosureTemplate | null): TemplateDraft {
  return {
    name: template?.name ?? '',
    ranges: template ? template.ranges.map((range) => rangeDraft(range)) : [rangeDraft()],
  }
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/

function dayProblem(value: string): FieldMessage | null {
  if (!value) return { key: 'validation.required' }
  if (!ISO_DAY.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) return { key: 'validation.pattern' }
  const year = Number(value.slice(0, 4))
  if (year < FIRST_YEAR || year > LAST_YEAR) return { key: 'closureTemplates.yearRange', values: { first: FIRST_YEAR, last: LAST_YEAR } }
  return null
}

/** One range's problems by field name (`prefix` e.g. "ranges[0]."). */
export function checkRange(range: RangeDraft, prefix = ''): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  const start = dayProblem(range.start_date)
  const end = dayProblem(range.end_date)
  if (start) found[`${prefix}start_date`] = start
  if (end) found[`${prefix}end_date`] = end
  if (!start && !end) {
    if (range.end_date < range.start_date) found[`${prefix}end_date`] = { key: 'closureTemplates.endBeforeStart' }
    else if (calendarDaysBetween(range.start_date, range.end_date) + 1 > MAX_SPAN_DAYS) {
      found[`${prefix}end_date`] = { key: 'closureTemplates.tooLong', values: { days: MAX_SPAN_DAYS } }
    }
  }
  if (!range.reason) found[`${prefix}reason`] = { key: 'validation.required' }
  const note = firstProblem(range.note, [declared('TemplateRangeIn', 'note')])
  if (note) found[`${prefix}note`] = note
  else if (range.reason === 'other' && !range.note.trim()) found[`${prefix}note`] = { key: 'closureTemplates.noteRequired' }
  return found
}

/** Everything the service would refuse: a name, 1–20 ranges each valid, none overlapping
 * another (reported on the later one's start, as the service does). */
export function checkTemplate(draft: TemplateDraft): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  const name = firstProblem(draft.name, [declared('TemplateIn', 'name')])
  if (name) found.name = name
  if (!draft.ranges.length) found.ranges = { key: 'closureTemplates.noRanges' }
  if (draft.ranges.length > MAX_RANGES) found.ranges = { key: 'validation.maxItems', values: { max: MAX_RANGES } }
  draft.ranges.forEach((range, index) => Object.assign(found, checkRange(range, `ranges[${index}].`)))
  const valid = draft.ranges
    .map((range, index) => ({ range, index }))
    .filter(({ index }) => !found[`ranges[${index}].start_date`] && !found[`ranges[${index}].end_date`])
    .sort((a, b) => a.range.start_date.localeCompare(b.range.start_date))
  for (let i = 1; i < valid.length; i += 1) {
    const earlier = valid[i - 1]!.range
    const later = valid[i]!
    if (later.range.start_date <= earlier.end_date) {
      found[`ranges[${later.index}].start_date`] = {
        key: 'closureTemplates.overlaps',
        values: { start: earlier.start_date, end: earlier.end_date },
      }
    }
  }
  return found
}

function rangesBody(draft: TemplateDraft): TemplateRangeInput[] {
  return draft.ranges.map((range) => ({
    ...(range.id ? { id: range.id } : {}),
    start_date: range.start_date,
    end_date: range.end_date,
    reason: range.reason || 'other',
    note: range.note.trim(),
  }))
}

/** A new template's body (after checkTemplate passed). */
export function createBody(draft: TemplateDraft, requestId: string): ClosureTemplateInput {
  return { name: draft.name.trim(), ranges: rangesBody(draft).map(({ id: _id, ...range }) => range), request_id: requestId }
}

/** A change: the whole list of ranges (a stored one keeps its id, so its customers' closures
 * move with it), refused with 409 if someone changed the template meanwhile. */
export function patchBody(draft: TemplateDraft, template: ClosureTemplate): ClosureTemplatePatch {
  return { name: draft.name.trim(), ranges: rangesBody(draft), expected_version: template.version }
}

/** The list filter a template is applied by: only the fields chosen; null when none is (the
 * API refuses a filter that narrows nothing). */
export function applyFilter(filter: ApplyFilter): ApplyFilter | null {
  const chosen = Object.fromEntries(
    Object.entries(filter).filter(([, value]) => typeof value === 'string' && value.trim() !== ''),
  ) as ApplyFilter
  return Object.keys(chosen).length ? chosen : null
}

export interface ApplyReport {
  applied: number
  already: number
  notFound: number
  conflicts: number
  /** Names of the customers left out as not found, where the form knows them (picked ones). */
  notFoundNames: string[]
  /** Each overlap that kept a customer out: the customer, its own closure in the way and the
   * template's range it overlaps (null from a server that does not say). */
  conflictRows: {
    key: string
    customerId: string
    customerName: string
    start: string
    end: string
    reason: ClosureReason
    templateName: string
    range: { start: string; end: string; reason: ClosureReason } | null
  }[]
}

/** The API's answer to an apply as the report shows it; `names` knows the picked customers. */
export function applyReport(result: ApplyResult, names: ReadonlyMap<string, string> = new Map()): ApplyReport {
  return {
    applied: result.applied_customer_ids.length,
    already: result.already_applied_customer_ids.length,
    notFound: result.not_found_customer_ids.length,
    conflicts: result.conflicts.length,
    notFoundNames: result.not_found_customer_ids.map((id) => names.get(id) ?? '').filter(Boolean),
    conflictRows: result.conflicts.flatMap((conflict) => {
      const overlaps = conflict.overlaps?.length ? conflict.overlaps : [{ closure: conflict.closure, range: null }]
      return overlaps.map(({ closure, range }, index) => ({
        key: `${conflict.customer_id}-${index}`,
        customerId: conflict.customer_id,
        customerName: conflict.customer_name,
        start: closure.start_date,
        end: closure.end_date,
        reason: closure.reason,
        templateName: closure.template_name,
        range: range ? { start: range.start_date, end: range.end_date, reason: range.reason } : null,
      }))
    }),
  }
}

type Translate = (key: string, values?: Record<string, unknown>) => string

/** The report in one sentence: what happened to how many, the parts that are zero left out. */
export function applySummary(t: Translate, report: ApplyReport): string {
  const parts = [t('closureTemplates.report.applied', { count: report.applied })]
  if (report.already) parts.push(t('closureTemplates.report.already', { count: report.already }))
  if (report.notFound) parts.push(t('closureTemplates.report.notFound', { count: report.notFound }))
  if (report.conflicts) parts.push(t('closureTemplates.report.conflicts', { count: report.conflicts }))
  return parts.join(t('closureTemplates.report.separator'))
}

/** Whether the apply needs the reader's attention (something was left out). */
export const reportHasProblems = (report: ApplyReport) => report.notFound > 0 || report.conflicts > 0

/** A template's ranges in a line each, for the list: "2027-01-23 至 2027-02-20 寒假（29 天）". */
export function rangeLines(t: Translate, template: Pick<ClosureTemplate, 'ranges'>): string[] {
  return [...template.ranges]
    .sort((a, b) => a.start_date.localeCompare(b.start_date))
    .map((range) =>
      t('closureTemplates.rangeLine', {
        start: range.start_date,
        end: range.end_date,
        reason: range.reason === 'other' && range.note ? range.note : t(`closureReasons.${range.reason}`),
        days: calendarDaysBetween(range.start_date, range.end_date) + 1,
      }),
    )
}
