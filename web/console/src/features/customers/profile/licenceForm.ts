// The licence dialog's model: the fields it edits, the checks before sending, and the create
// body or the PATCH of what changed.
import { declared, type FieldMessage } from '@keyuan/shared'
import type { Licence, LicenceInput, LicencePatch } from './api'

export interface LicenceDraft {
  kind: string
  number: string
  issuer: string
  valid_from: string | null
  valid_until: string | null
  notes: string
  attachment_id: string
}

export const emptyLicence = (): LicenceDraft => ({
  kind: '',
  number: '',
  issuer: '',
  valid_from: null,
  valid_until: null,
  notes: '',
  attachment_id: '',
})

export const licenceDraft = (licence: Licence): LicenceDraft => ({
  kind: licence.kind,
  number: licence.number,
  issuer: licence.issuer,
  valid_from: licence.valid_from,
  valid_until: licence.valid_until,
  notes: licence.notes,
  attachment_id: licence.attachment_id ?? '',
})

export const LICENCE_FIELDS = ['kind', 'number', 'issuer', 'valid_from', 'valid_until', 'notes', 'attachment_id']

export function checkLicence(draft: LicenceDraft): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  for (const field of ['kind', 'number', 'issuer', 'notes'] as const) {
    const problem = declared('LicenceIn', field)(draft[field])
    if (problem) found[field] = problem
  }
  if (draft.valid_from && draft.valid_until && draft.valid_until < draft.valid_from) found.valid_until = { key: 'c360.untilBeforeFrom' }
  return found
}

export function licenceBody(draft: LicenceDraft, requestId: string): LicenceInput {
  return {
    kind: draft.kind,
    number: draft.number.trim(),
    issuer: draft.issuer.trim(),
    valid_from: draft.valid_from || null,
    valid_until: draft.valid_until || null,
    notes: draft.notes.trim(),
    attachment_id: draft.attachment_id,
    request_id: requestId,
  }
}

/** Only what changed, with the version read; null clears a date. */
export function licencePatch(before: Licence, draft: LicenceDraft): LicencePatch {
  const original = licenceDraft(before)
  const body = licenceBody(draft, '')
  const patch: LicencePatch = { expected_version: before.version }
  if (body.kind !== original.kind) patch.kind = body.kind
  if (body.number !== original.number) patch.number = body.number
  if (body.issuer !== original.issuer) patch.issuer = body.issuer
  if (body.valid_from !== (original.valid_from || null)) patch.valid_from = body.valid_from
  if (body.valid_until !== (original.valid_until || null)) patch.valid_until = body.valid_until
  if (body.notes !== original.notes) patch.notes = body.notes
  if (body.attachment_id !== original.attachment_id) patch.attachment_id = body.attachment_id
  return patch
}
