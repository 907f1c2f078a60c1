// Delivery windows (收货时段) as the preferences form edits them: one flat list, kept grouped by
// weekday so a refusal's index (`preferences.delivery_windows[3].end`) is the row on screen; the
// checks the service makes (HH:MM, end after start, no overlap within a day) run before sending.
import type { FieldMessage } from '@keyuan/shared'
import type { DeliveryWindow } from './api'

export const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const
export type Weekday = (typeof WEEKDAYS)[number]

/** "HH:MM" from 00:00 to 23:59, or 24:00 (the end of the day), as the gateway declares. */
const HH_MM = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/

/** Minutes since midnight, or null for anything that is not "HH:MM". */
export function minutesOf(value: string): number | null {
  const trimmed = value.trim()
  if (!HH_MM.test(trimmed)) return null
  const [hours = 0, minutes = 0] = trimmed.split(':').map(Number)
  return hours * 60 + minutes
}

/** "7:5" or "0730" typed by hand → "07:05" / "07:30"; anything else unchanged (the check names it). */
export function normaliseTime(value: string): string {
  const trimmed = value.trim().replace('：', ':')
  const colon = /^(\d{1,2}):(\d{1,2})$/.exec(trimmed)
  const bare = /^(\d{2})(\d{2})$/.exec(trimmed)
  const found = colon ?? bare
  return found ? `${(found[1] ?? '').padStart(2, '0')}:${(found[2] ?? '').padStart(2, '0')}` : trimmed
}

/** The windows by weekday then start, as the service stores them. */
export function sortWindows(windows: readonly DeliveryWindow[]): DeliveryWindow[] {
  return [...windows].sort((a, b) => a.weekday - b.weekday || (minutesOf(a.start) ?? 0) - (minutesOf(b.start) ?? 0))
}

const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`

/** A new window on `weekday`, placed after that day's last one (so rows keep their grouping):
 * 08:00–10:00 on an empty day, else up to two hours after the day's latest end (until 24:00). */
export function addWindow(windows: DeliveryWindow[], weekday: number, start?: string, end?: string): DeliveryWindow[] {
  const lastOfDay = windows.map((w) => w.weekday).lastIndexOf(weekday)
  const before = lastOfDay >= 0 ? lastOfDay + 1 : windows.filter((w) => w.weekday < weekday).length
  const latestEnd = Math.max(-1, ...windows.filter((w) => w.weekday === weekday).map((w) => minutesOf(w.end) ?? -1))
  // A day already delivering until midnight gets 08:00 again, for the user to change.
  const from = latestEnd < 0 || latestEnd >= 24 * 60 ? 8 * 60 : latestEnd
  const added = { weekday, start: start ?? hhmm(from), end: end ?? hhmm(Math.min(from + 120, 24 * 60)) }
  return [...windows.slice(0, before), added, ...windows.slice(before)]
}

/** Each day's windows with their index in the flat list (the index the API names). */
export function windowsByDay(windows: readonly DeliveryWindow[]): { weekday: Weekday; rows: { index: number; window: DeliveryWindow }[] }[] {
  return WEEKDAYS.map((weekday) => ({
    weekday,
    rows: windows.flatMap((window, index) => (window.weekday === weekday ? [{ index, window }] : [])),
  }))
}

/** Every problem, keyed by the API's field name. */
export function checkWindows(windows: readonly DeliveryWindow[], field = 'preferences.delivery_windows'): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  const checked: { weekday: number; start: number; end: number; window: DeliveryWindow }[] = []
  windows.forEach((window, index) => {
    const at = `${field}[${index}]`
    const start = minutesOf(window.start)
    const end = minutesOf(window.end)
    if (start === null) found[`${at}.start`] = { key: 'c360.windowTime' }
    if (end === null) found[`${at}.end`] = { key: 'c360.windowTime' }
    if (start === null || end === null) return
    if (end <= start) {
      found[`${at}.end`] = { key: 'c360.windowOrder' }
      return
    }
    const other = checked.find((c) => c.weekday === window.weekday && start < c.end && c.start < end)
    if (other) found[`${at}.start`] = { key: 'c360.windowOverlap', values: { start: other.window.start, end: other.window.end } }
    checked.push({ weekday: window.weekday, start, end, window })
  })
  return found
}

/** "07:00–09:00" */
export const formatWindow = (window: DeliveryWindow) => `${window.start}–${window.end}`

/** "周一 07:00–09:00、14:00–16:00；周三 06:00–08:00" with the UI's weekday names (1 Monday … 7 Sunday). */
export function summariseWindows(windows: readonly DeliveryWindow[], weekdayName: (weekday: number) => string, separators = { day: '；', window: '、' }): string {
  return windowsByDay(sortWindows(windows))
    .filter((day) => day.rows.length)
    .map((day) => `${weekdayName(day.weekday)} ${day.rows.map((r) => formatWindow(r.window)).join(separators.window)}`)
    .join(separators.day)
}
