import { describe, expect, it } from 'vitest'
import { availableActions, lineAmount } from './api'

describe('availableActions', () => {
  it('offers a rep confirm and cancel on a draft', () => {
    expect(availableActions({ state: 'draft', payment_mode: 'cod' }, 'sales')).toEqual(['confirm', 'cancel'])
  })

  it('lets only finance (and admins, bosses) record a COD payment', () => {
    expect(availableActions({ state: 'awaiting_payment', payment_mode: 'cod' }, 'finance')).toEqual(['record_payment'])
    expect(availableActions({ state: 'awaiting_payment', payment_mode: 'cod' }, 'sales')).toEqual(['cancel'])
  })

  it('leaves dispatch and delivery to service staff and supervisors, not reps', () => {
    expect(availableActions({ state: 'ready_to_ship', payment_mode: 'credit' }, 'service')).toEqual(['dispatch'])
    expect(availableActions({ state: 'dispatched', payment_mode: 'cod' }, 'sales')).toEqual([])
  })

  it('offers nothing on a finished order or without a role', () => {
    expect(availableActions({ state: 'completed', payment_mode: 'cod' }, 'admin')).toEqual([])
    expect(availableActions({ state: 'draft', payment_mode: 'cod' }, undefined)).toEqual([])
  })
})

describe('lineAmount', () => {
  it('rounds to the fen without binary drift', () => {
    expect(lineAmount('3', '0.335')).toBe(1.01)
    expect(lineAmount('1.5', '12.30')).toBe(18.45)
  })
})
