// The dispatch and delivery forms' rules as the order service applies them, so a form says what
// is wrong before it is sent (the API still decides): a line's batches add up to at most its
// quantity; a partial delivery delivers less on some line; a refusal has a reason; a photo
// unless refused. Quantities are compared in thousandths, as the service keeps them.
import { parseMobile } from '../validation/cn'
import type { OrderLine } from '../orders/api'
import type { ConfirmationInput, DeliveryException, DispatchInput } from './api'

export interface BatchRow {
  line_no: number
  batch_no: string
  quantity: string
}

export interface DispatchForm {
  vehicle: string
  driver_name: string
  driver_phone: string
  /** ISO time with its offset, e.g. 2026-12-05T07:00:00+08:00 */
  planned_at: string
  batches: BatchRow[]
}

export interface ExceptionRow {
  line_no: number
  quantity: string
  note: string
  /** Whether the row takes part (partial: delivered less; damaged: damaged). */
  chosen: boolean
}

export interface ConfirmationForm {
  signed_by: string
  signed_at: string
  photo_id: string
  exception: DeliveryException | ''
  exception_reason: string
  lines: ExceptionRow[]
}

/** field → i18n key of the problem (deliveries.errors.*). */
export type FormErrors = Record<string, string>

const QUANTITY = /^\d{1,9}(\.\d{1,3})?$/

export function milli(value: string): number {
  const [whole, fraction = ''] = value.trim().split('.')
  return Number(whole) * 1000 + Number(fraction.padEnd(3, '0').slice(0, 3))
}

/** One batch row per line, filling the whole line (the dispatcher fills in the numbers). */
export function batchRowsFor(lines: readonly Pick<OrderLine, 'line_no' | 'quantity'>[]): BatchRow[] {
  return lines.map((line) => ({ line_no: line.line_no, batch_no: '', quantity: String(line.quantity) }))
}

export function dispatchErrors(form: DispatchForm, lines: readonly Pick<OrderLine, 'line_no' | 'quantity'>[]): FormErrors {
  const errors: FormErrors = {}
  if (!form.vehicle.trim()) errors.vehicle = 'required'
  else if (form.vehicle.replace(/\s/g, '').length < 5) errors.vehicle = 'plate'
  if (!form.driver_name.trim()) errors.driver_name = 'required'
  if (!form.driver_phone.trim()) errors.driver_phone = 'required'
  else if (parseMobile(form.driver_phone) === null) errors.driver_phone = 'mobile'
  if (!form.planned_at) errors.planned_at = 'required'
  const ordered = new Map(lines.map((line) => [line.line_no, milli(String(line.quantity))]))
  const filled = new Map<number, number>()
  form.batches.forEach((batch, index) => {
    if (!batch.batch_no.trim()) errors[`batches[${index}].batch_no`] = 'required'
    if (!QUANTITY.test(batch.quantity.trim()) || milli(batch.quantity) <= 0) {
      errors[`batches[${index}].quantity`] = 'quantity'
      return
    }
    const total = (filled.get(batch.line_no) ?? 0) + milli(batch.quantity)
    filled.set(batch.line_no, total)
    if (total > (ordered.get(batch.line_no) ?? 0)) errors[`batches[${index}].quantity`] = 'batchesExceedLine'
  })
  return errors
}

export function dispatchBody(form: DispatchForm, expectedVersion?: number): DispatchInput {
  return {
    vehicle: form.vehicle.trim(),
    driver_name: form.driver_name.trim(),
    driver_phone: form.driver_phone.trim(),
    planned_at: form.planned_at,
    batches: form.batches.map((b) => ({ line_no: b.line_no, batch_no: b.batch_no.trim(), quantity: b.quantity.trim() })),
    expected_version: expectedVersion ?? null,
  }
}

export function exceptionRowsFor(lines: readonly Pick<OrderLine, 'line_no' | 'quantity'>[]): ExceptionRow[] {
  return lines.map((line) => ({ line_no: line.line_no, quantity: String(line.quantity), note: '', chosen: false }))
}

export function confirmationErrors(form: ConfirmationForm, lines: readonly Pick<OrderLine, 'line_no' | 'quantity'>[]): FormErrors {
  const errors: FormErrors = {}
  if (!form.signed_by.trim()) errors.signed_by = 'required'
  if (!form.signed_at) errors.signed_at = 'required'
  if (form.exception !== 'refused' && !form.photo_id) errors.photo_id = 'photo'
  if (form.exception === 'refused' && !form.exception_reason.trim()) errors.exception_reason = 'required'
  if (form.exception === 'partial' || form.exception === 'damaged') {
    const ordered = new Map(lines.map((line) => [line.line_no, milli(String(line.quantity))]))
    const chosen = form.lines.filter((row) => row.chosen)
    if (!chosen.length) errors.exception_lines = 'chooseLines'
    form.lines.forEach((row, index) => {
      if (!row.chosen) return
      const text = row.quantity.trim()
      if (form.exception === 'damaged' && !text) return
      if (!QUANTITY.test(text)) errors[`lines[${index}].quantity`] = 'quantity'
      else if (milli(text) > (ordered.get(row.line_no) ?? 0)) errors[`lines[${index}].quantity`] = 'aboveLine'
    })
    if (
      form.exception === 'partial' &&
      chosen.length &&
      chosen.every((row) => QUANTITY.test(row.quantity.trim()) && milli(row.quantity) === ordered.get(row.line_no))
    )
      errors.exception_lines = 'partialIsWhole'
  }
  return errors
}

export function confirmationBody(form: ConfirmationForm, expectedVersion?: number): ConfirmationInput {
  const withLines = form.exception === 'partial' || form.exception === 'damaged'
  return {
    signed_by: form.signed_by.trim(),
    signed_at: form.signed_at,
    photo_id: form.photo_id,
    exception: form.exception || null,
    exception_reason: form.exception_reason.trim(),
    exception_lines: withLines
      ? form.lines
          .filter((row) => row.chosen)
          .map((row) => ({ line_no: row.line_no, quantity: row.quantity.trim() || null, note: row.note.trim() }))
      : [],
    expected_version: expectedVersion ?? null,
  }
}

/** A Date as the API takes it: ISO with the Asia/Shanghai offset (+08:00), to the second. */
export function shanghaiIso(date: Date): string {
  const shifted = new Date(date.getTime() + 8 * 3600 * 1000)
  return `${shifted.toISOString().slice(0, 19)}+08:00`
}
