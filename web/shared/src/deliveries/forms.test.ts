import { describe, expect, it } from 'vitest'
import {
  batchRowsFor,
  confirmationBody,
  confirmationErrors,
  dispatchBody,
  dispatchErrors,
  exceptionRowsFor,
  shanghaiIso,
  type ConfirmationForm,
  type DispatchForm,
} from './forms'

const LINES = [
  { line_no: 1, quantity: '2.5' },
  { line_no: 2, quantity: '3' },
]

function dispatch(changes: Partial<DispatchForm> = {}): DispatchForm {
  return {
    vehicle: '浙A12345',
    driver_name: '王师傅',
    driver_phone: '13800138000',
    planned_at: '2026-12-05T07:00:00+08:00',
    batches: [
      { line_no: 1, batch_no: 'B20261128-01', quantity: '2' },
      { line_no: 1, batch_no: 'B20261128-02', quantity: '0.5' },
      { line_no: 2, batch_no: 'B20261128-01', quantity: '3' },
    ],
    ...changes,
  }
}

function confirmation(changes: Partial<ConfirmationForm> = {}): ConfirmationForm {
  return {
    signed_by: '李阿姨',
    signed_at: '2026-12-05T07:20:00+08:00',
    photo_id: 'p1',
    exception: '',
    exception_reason: '',
    lines: exceptionRowsFor(LINES),
    ...changes,
  }
}

describe('dispatch form', () => {
  it('accepts batches that fill the lines exactly', () => {
    expect(dispatchErrors(dispatch(), LINES)).toEqual({})
  })

  it('names the batch whose quantity takes its line past the ordered quantity', () => {
    const batches = [...dispatch().batches, { line_no: 1, batch_no: 'B3', quantity: '0.001' }]
    expect(dispatchErrors(dispatch({ batches }), LINES)).toEqual({ 'batches[3].quantity': 'batchesExceedLine' })
  })

  it('refuses a missing plate, driver, landline, batch number and a zero quantity', () => {
    const errors = dispatchErrors(
      dispatch({
        vehicle: '浙A',
        driver_name: ' ',
        driver_phone: '0571-88888888',
        batches: [{ line_no: 1, batch_no: '', quantity: '0' }],
      }),
      LINES,
    )
    expect(errors).toEqual({
      vehicle: 'plate',
      driver_name: 'required',
      driver_phone: 'mobile',
      'batches[0].batch_no': 'required',
      'batches[0].quantity': 'quantity',
    })
  })

  it('starts with one batch row per line filling it, and sends trimmed values', () => {
    expect(batchRowsFor(LINES)).toEqual([
      { line_no: 1, batch_no: '', quantity: '2.5' },
      { line_no: 2, batch_no: '', quantity: '3' },
    ])
    const body = dispatchBody(dispatch({ vehicle: ' 浙A12345 ', batches: [{ line_no: 2, batch_no: ' B1 ', quantity: '1 ' }] }), 4)
    expect(body).toMatchObject({ vehicle: '浙A12345', batches: [{ line_no: 2, batch_no: 'B1', quantity: '1' }], expected_version: 4 })
  })
})

describe('delivery confirmation form', () => {
  it('needs a photo unless the delivery was refused, and a refusal needs a reason', () => {
    expect(confirmationErrors(confirmation({ photo_id: '' }), LINES)).toEqual({ photo_id: 'photo' })
    expect(confirmationErrors(confirmation({ photo_id: '', exception: 'refused' }), LINES)).toEqual({
      exception_reason: 'required',
    })
    expect(confirmationErrors(confirmation({ photo_id: '', exception: 'refused', exception_reason: '停餐' }), LINES)).toEqual({})
  })

  it('a partial delivery delivers less on a chosen line, never more than ordered', () => {
    const lines = exceptionRowsFor(LINES)
    expect(confirmationErrors(confirmation({ exception: 'partial', lines }), LINES)).toEqual({ exception_lines: 'chooseLines' })
    lines[0] = { ...lines[0]!, chosen: true }
    expect(confirmationErrors(confirmation({ exception: 'partial', lines }), LINES)).toEqual({ exception_lines: 'partialIsWhole' })
    lines[0] = { ...lines[0]!, quantity: '3' }
    expect(confirmationErrors(confirmation({ exception: 'partial', lines }), LINES)).toEqual({ 'lines[0].quantity': 'aboveLine' })
    lines[0] = { ...lines[0]!, quantity: '1.5', note: '少一箱' }
    expect(confirmationErrors(confirmation({ exception: 'partial', lines }), LINES)).toEqual({})
    expect(confirmationBody(confirmation({ exception: 'partial', lines }))).toMatchObject({
      exception: 'partial',
      exception_lines: [{ line_no: 1, quantity: '1.5', note: '少一箱' }],
    })
  })

  it('sends no lines and no exception when delivered in full', () => {
    expect(confirmationBody(confirmation())).toMatchObject({ exception: null, exception_lines: [] })
  })
})

describe('shanghaiIso', () => {
  it('writes a time with the +08:00 offset', () => {
    expect(shanghaiIso(new Date('2026-12-04T23:00:00Z'))).toBe('2026-12-05T07:00:00+08:00')
  })
})
