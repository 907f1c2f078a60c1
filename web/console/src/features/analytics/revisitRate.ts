// 回访率 as its screen shows it: every month of the range (months without due revisits are gaps,
// not zeros), one row per rep (the service queue as one) or per org unit with each month's rate
// and the range's, and the chart's series.
import { shanghaiDay } from '@keyuan/shared'
import type { RevisitRateSummary } from './api'

export type RateDimension = 'assignee' | 'org_unit'

export interface MonthRate {
  due: number
  onTime: number
  late: number
  /** done on time / due, 0 to 1; null when nothing was due. */
  rate: number | null
}

export interface RateRow {
  key: string
  label: string
  months: Record<string, MonthRate>
  total: MonthRate
}

const MONTH = /^(\d{4})-(\d{2})$/

/** Every month from `from` to `to` (YYYY-MM, both included); at most 60. */
export function monthsBetween(from: string, to: string): string[] {
  const start = MONTH.exec(from)
  const end = MONTH.exec(to)
  if (!start || !end) return []
  const months: string[] = []
  let year = Number(start[1])
  let month = Number(start[2])
  const last = Number(end[1]) * 12 + Number(end[2])
  while (year * 12 + month <= last && months.length < 60) {
    months.push(`${year}-${String(month).padStart(2, '0')}`)
    month += 1
    if (month > 12) {
      month = 1
      year += 1
    }
  }
  return months
}

/** The API's default window: five months back to this month, in Shanghai. */
export function defaultMonths(now: Date = new Date()): [string, string] {
  const to = shanghaiDay(now).slice(0, 7)
  const [year, month] = to.split('-').map(Number) as [number, number]
  const back = year * 12 + (month - 1) - 5
  return [`${Math.floor(back / 12)}-${String((back % 12) + 1).padStart(2, '0')}`, to]
}

const empty = (): MonthRate => ({ due: 0, onTime: 0, late: 0, rate: null })

function add(into: MonthRate, row: { due: number; done_on_time: number; done_late: number }): void {
  into.due += row.due
  into.onTime += row.done_on_time
  into.late += row.done_late
  into.rate = into.due ? into.onTime / into.due : null
}

interface Labels {
  serviceQueue: string
  unknown: string
}

/** One row per rep (or per org unit) over `months`, lowest rate over the range first (who needs
 * a word), then the one with more due, then by name; rows with nothing due in the range are left out. */
export function rateRows(summary: RevisitRateSummary, dimension: RateDimension, months: string[], labels: Labels): RateRow[] {
  const inRange = new Set(months)
  const rows = new Map<string, RateRow>()
  const rowOf = (key: string, label: string) => {
    let row = rows.get(key)
    if (!row) {
      row = { key, label, months: Object.fromEntries(months.map((m) => [m, empty()])), total: empty() }
      rows.set(key, row)
    }
    return row
  }
  if (dimension === 'assignee') {
    for (const item of summary.by_assignee) {
      if (!inRange.has(item.month)) continue
      const service = item.assignee_kind === 'service'
      const row = rowOf(
        service ? 'service' : `owner:${item.assignee_id}`,
        service ? labels.serviceQueue : item.assignee_name || labels.unknown,
      )
      add(row.months[item.month]!, item)
      add(row.total, item)
    }
  } else {
    for (const item of summary.by_org_unit) {
      if (!inRange.has(item.month)) continue
      const row = rowOf(item.org_unit_id, item.org_unit_name || labels.unknown)
      add(row.months[item.month]!, item)
      add(row.total, item)
    }
  }
  return [...rows.values()]
    .filter((row) => row.total.due > 0)
    .sort(
      (a, b) =>
        (a.total.rate ?? 1) - (b.total.rate ?? 1) || b.total.due - a.total.due || a.label.localeCompare(b.label, 'zh-CN'),
    )
}

/** The whole scope's rate per month (the API's totals), a gap where nothing was due. */
export function totalsByMonth(summary: RevisitRateSummary, months: string[]): MonthRate[] {
  const byMonth = new Map(summary.totals.map((row) => [row.month, row]))
  return months.map((month) => {
    const found = byMonth.get(month)
    const rate = empty()
    if (found) add(rate, found)
    return rate
  })
}

/** A rate as the chart plots it: a percentage with one decimal, null for a gap. */
export const percent = (rate: number | null) => (rate === null ? null : Math.round(rate * 1000) / 10)

/** How many rows the chart draws as lines; the table lists them all. */
export const CHART_ROWS = 8

/** Bars of the whole scope's due revisits, its rate as a line, and a line per row (the lowest
 * `CHART_ROWS`), rates on a 0–100% axis. */
export function rateChartOption(
  months: string[],
  totals: MonthRate[],
  rows: RateRow[],
  names: { due: string; total: string },
) {
  return {
    aria: { enabled: true },
    tooltip: { trigger: 'axis' as const },
    legend: { top: 0, type: 'scroll' as const },
    grid: { left: 48, right: 48, top: 40, bottom: 40 },
    xAxis: { type: 'category' as const, data: months },
    yAxis: [
      { type: 'value' as const, min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
      { type: 'value' as const, minInterval: 1, splitLine: { show: false } },
    ],
    series: [
      { type: 'bar' as const, name: names.due, yAxisIndex: 1, data: totals.map((m) => m.due), barMaxWidth: 32, itemStyle: { opacity: 0.35 } },
      { type: 'line' as const, name: names.total, data: totals.map((m) => percent(m.rate)), lineStyle: { width: 3 }, connectNulls: false },
      ...rows.slice(0, CHART_ROWS).map((row) => ({
        type: 'line' as const,
        name: row.label,
        data: months.map((month) => percent(row.months[month]!.rate)),
        connectNulls: false,
      })),
    ],
  }
}
