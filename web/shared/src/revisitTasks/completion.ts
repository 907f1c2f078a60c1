// The revisit completion form both apps show: satisfaction as 1–5 stars, the way it happened,
// what was said, new needs (新需求) and an optional next date — checked as the gateway checks
// RevisitCompletionIn.
import { FOLLOW_UP_KINDS } from '../api/models'
import { shanghaiDay } from '../format'
import { checkAll, declared, required, type Check, type FieldMessage } from '../validation/rules'
import type { RevisitCompletionInput, RevisitKind } from './api'

export const MIN_SATISFACTION = 1
export const MAX_SATISFACTION = 5

/** What a completion form holds; satisfaction 0 while no star is chosen. */
export interface RevisitCompletionDraft {
  satisfaction: number
  kind: RevisitKind | ''
  content: string
  new_needs: string
  next_follow_up_date: string | null
}

export function completionDraft(kind: RevisitKind = 'phone'): RevisitCompletionDraft {
  return { satisfaction: 0, kind, content: '', new_needs: '', next_follow_up_date: null }
}

/** A star widget's value (0 = none chosen; half stars are not offered but a stray fraction
 * rounds) as the API's satisfaction, or null when no star is chosen. */
export function satisfactionFromStars(stars: number | null | undefined): number | null {
  if (stars === null || stars === undefined || !Number.isFinite(stars)) return null
  const whole = Math.round(stars)
  if (whole < MIN_SATISFACTION) return null
  return Math.min(whole, MAX_SATISFACTION)
}

/** The i18n key that says what `satisfaction` stars mean (很不满意 … 很满意); '' for none. */
export function satisfactionKey(satisfaction: number | null | undefined): string {
  const value = satisfactionFromStars(satisfaction)
  return value === null ? '' : `revisits.satisfaction.${value}`
}

/** The five labels in star order, for the widgets' texts. */
export const SATISFACTION_KEYS: readonly string[] = Array.from(
  { length: MAX_SATISFACTION },
  (_, index) => `revisits.satisfaction.${index + 1}`,
)

export function completionChecks(now: Date = new Date()): Record<string, Check[]> {
  const stars: Check = (value) => (satisfactionFromStars(value as number) === null ? { key: 'revisits.satisfactionRequired' } : null)
  const knownKind: Check = (value) =>
    value && !FOLLOW_UP_KINDS.includes(value as RevisitKind) ? { key: 'validation.pattern' } : null
  const todayOrLater: Check = (value) =>
    typeof value === 'string' && value && value < shanghaiDay(now) ? { key: 'validation.todayOrLater' } : null
  return {
    satisfaction: [stars],
    kind: [required, knownKind],
    content: [declared('RevisitCompletionIn', 'content')],
    new_needs: [declared('RevisitCompletionIn', 'new_needs')],
    next_follow_up_date: [todayOrLater],
  }
}

export function checkCompletion(draft: RevisitCompletionDraft, now: Date = new Date()): Record<string, FieldMessage> {
  return checkAll(draft, completionChecks(now))
}

/** The fields a completion form has inputs for (the API's refusals go beside them). */
export const COMPLETION_FIELDS = ['satisfaction', 'kind', 'content', 'new_needs', 'next_follow_up_date'] as const

/** The body for the API, after checkCompletion passed: trimmed texts, no empty date. */
export function completionBody(draft: RevisitCompletionDraft, requestId: string): RevisitCompletionInput {
  return {
    satisfaction: satisfactionFromStars(draft.satisfaction) ?? MIN_SATISFACTION,
    kind: draft.kind || 'other',
    content: draft.content.trim(),
    new_needs: draft.new_needs.trim(),
    next_follow_up_date: draft.next_follow_up_date || null,
    request_id: requestId,
  }
}
