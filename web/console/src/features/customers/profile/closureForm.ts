// The closure dialog's model and its checks (as the service makes them: dates in order, at most
// 366 days, a note for "other").
import type { FieldMessage } from '@keyuan/shared'
import type { Closure, ClosureInput, ClosurePatch, ClosureReason } from './api'
import { closureDays } from './closureCalendar'

export interface ClosureDraft {
  start_date: string | null
  end_date: string | null
  reason: ClosureReason
  note: string
}

export const emptyClosure = (): ClosureDraft => ({ start_date: null, end_date: null, reason: 'winter_break', note: '' })

export const closureDraft = (closure: Closure): ClosureDraft => ({
  start_date: closure.start_date,
  end_date: closure.end_date,
  reason: closure.reason,
  note: closure.note,
})

export const CLOSURE_FIELDS = ['start_date', 'end_date', 'reason', 'note']

export function checkClosure(draft: ClosureDraft): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  if (!draft.start_date) found.start_date = { key: 'validation.required' }
  if (!draft.end_date) found.end_date = { key: 'validation.required' }
  if (draft.start_date && draft.end_date) {
    if (draft.end_date < draft.start_date) found.end_date = { key: 'c360.endBeforeStart' }
    else if (closureDays(draft.start_date, draft.end_date) > 366) found.end_date = { key: 'c360.closureTooLong' }
  }
  if (draft.reason === 'other' && !draft.note.trim()) found.note = { key: 'c360.noteForOther' }
  if (draft.note.trim().length > 200) found.note = { key: 'validation.maxLength', values: { max: 200 } }
  return found
}

export function closureBody(draft: ClosureDraft, requestId: string): ClosureInput {
  return { start_date: draft.start_date ?? '', end_date: draft.end_date ?? '', reason: draft.reason, note: draft.note.trim(), request_id: requestId }
}

export function closurePatch(before: Closure, draft: ClosureDraft): ClosurePatch {
  const patch: ClosurePatch = { expected_version: before.version }
  if (draft.start_date !== before.start_date) patch.start_date = draft.start_date
  if (draft.end_date !== before.end_date) patch.end_date = draft.end_date
  if (draft.reason !== before.reason) patch.reason = draft.reason
  if (draft.note.trim() !== before.note) patch.note = draft.note.trim()
  return patch
}
