// The closure calendar's arithmetic on Asia/Shanghai calendar days ("YYYY-MM-DD" strings compare
// in date order): which closure covers a day, and how long a range is.
import type { Closure } from './api'

/** The closure covering `day` (inclusive at both ends), if any. */
export function closureOn<C extends Pick<Closure, 'start_date' | 'end_date'>>(day: string, closures: readonly C[]): C | undefined {
  return closures.find((c) => c.start_date <= day && day <= c.end_date)
}

/** Days in a range, both ends counted. */
export function closureDays(start: string, end: string): number {
  const ms = Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)
  return Number.isFinite(ms) ? Math.round(ms / 86_400_000) + 1 : 0
}

/** The day el-calendar's cell stands for, as "YYYY-MM-DD" (its `day` is already that string). */
export const cellDay = (data: { day: string }) => data.day

/** The day the calendar opens on: today, unless the next closure starts in a later month, then
 * the first of that month. */
export function openingDay(closures: readonly Pick<Closure, 'start_date' | 'end_date'>[], today: string): string {
  const upcoming = closures.find((c) => c.end_date >= today)
  if (!upcoming || upcoming.start_date.slice(0, 7) <= today.slice(0, 7)) return today
  return `${upcoming.start_date.slice(0, 7)}-01`
}
