// The follow-up form's checks, as the gateway validates FollowUpIn: kind and content required,
// lengths as declared, not in the future (5 minutes of clock skew allowed), next date today or later.
import type { FollowUpInput, FollowUpKind } from '../api/models'
import { shanghaiDay } from '../format'
import { checkAll, declared, required, type Check, type FieldMessage } from '../validation/rules'

/** What a follow-up form holds; `occurred_at` an ISO instant, `next_follow_up_date` YYYY-MM-DD. */
export interface FollowUpDraft {
  kind: FollowUpKind | ''
  occurred_at: string | null
  contact_ids: string[]
  content: string
  outcome: string
  next_follow_up_date: string | null
}

const SKEW_MS = 5 * 60_000

export function followUpChecks(now: Date = new Date()): Record<string, Check[]> {
  const notInFuture: Check = (value) =>
    typeof value === 'string' && value && new Date(value).getTime() > now.getTime() + SKEW_MS ? { key: 'validation.notInFuture' } : null
  const todayOrLater: Check = (value) =>
    typeof value === 'string' && value && value < shanghaiDay(now) ? { key: 'validation.todayOrLater' } : null
  return {
    kind: [required],
    occurred_at: [notInFuture],
    contact_ids: [declared('FollowUpIn', 'contact_ids')],
    content: [declared('FollowUpIn', 'content')],
    outcome: [declared('FollowUpIn', 'outcome')],
    next_follow_up_date: [todayOrLater],
  }
}

export function checkFollowUp(draft: FollowUpDraft, now: Date = new Date()): Record<string, FieldMessage> {
  return checkAll(draft, followUpChecks(now))
}

/** The fields a follow-up form has inputs for (placeFieldErrors puts the API's refusals there). */
export const FOLLOW_UP_FIELDS = ['kind', 'occurred_at', 'contact_ids', 'content', 'outcome', 'next_follow_up_date'] as const

/** Whether `followUp` may still be edited by the signed-in user `userId` at `now`. */
export function canEditFollowUp(followUp: { author_id: string; editable_until: string }, userId: string | undefined, now = new Date()): boolean {
  return !!userId && followUp.author_id === userId && new Date(followUp.editable_until).getTime() > now.getTime()
}

/** The draft's body for the API: trimmed texts, empty optional values left out. */
export function followUpBody(draft: FollowUpDraft): FollowUpInput {
  return {
    kind: draft.kind || 'other', // checkFollowUp refuses an empty kind before a body is made
    occurred_at: draft.occurred_at || null,
    contact_ids: draft.contact_ids,
    content: draft.content.trim(),
    outcome: draft.outcome.trim(),
    next_follow_up_date: draft.next_follow_up_date || null,
  }
}
