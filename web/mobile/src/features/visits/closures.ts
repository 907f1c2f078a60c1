// What a rep should know about a customer's closures before a visit: the one covering today and
// the next ones coming up (the API lists those ending today or later, by start date).
import type { Closure, ClosureList } from './api'

/** How many upcoming closures the card names. */
export const UPCOMING_SHOWN = 2

export function closureNotices(list: ClosureList | null, today: string): { current: Closure | null; upcoming: Closure[] } {
  if (!list) return { current: null, upcoming: [] }
  const current = list.current ?? list.items.find((c) => c.start_date <= today && c.end_date >= today) ?? null
  const upcoming = list.items.filter((c) => c.start_date > today).slice(0, UPCOMING_SHOWN)
  return { current, upcoming }
}

/** The reason as a rep reads it: its name with the note ("装修（后厨装修）"), or the note alone
 * for "other". */
export function closureReason(
  t: (key: string, values?: Record<string, unknown>) => string,
  closure: Pick<Closure, 'reason' | 'note'>,
): string {
  if (closure.reason === 'other' && closure.note) return closure.note
  const name = t(`closureReasons.${closure.reason}`)
  return closure.note && closure.note !== name ? t('customerAlerts.reasonWithNote', { reason: name, note: closure.note }) : name
}
