import { describe, expect, it } from 'vitest'
import { closureDays, closureOn, openingDay } from './closureCalendar'
import { checkClosure, closurePatch, emptyClosure } from './closureForm'
import type { Closure } from './api'

const winter = { start_date: '2027-01-20', end_date: '2027-02-18' }
const renovation = { start_date: '2027-03-01', end_date: '2027-03-10' }

describe('the closure calendar', () => {
  it('finds the closure covering a day, both ends included', () => {
    expect(closureOn('2027-01-20', [winter, renovation])).toBe(winter)
    expect(closureOn('2027-02-18', [winter, renovation])).toBe(winter)
    expect(closureOn('2027-02-19', [winter, renovation])).toBeUndefined()
    expect(closureOn('2027-03-05', [winter, renovation])).toBe(renovation)
  })

  it('counts the days of a range, both ends included, across months', () => {
    expect(closureDays('2027-01-20', '2027-02-18')).toBe(30)
    expect(closureDays('2027-03-01', '2027-03-01')).toBe(1)
  })

  it('opens on today, or on the month of the next closure when that is later', () => {
    expect(openingDay([winter, renovation], '2027-01-05')).toBe('2027-01-05')
    expect(openingDay([winter, renovation], '2027-02-01')).toBe('2027-02-01')
    expect(openingDay([winter, renovation], '2026-12-20')).toBe('2027-01-01')
    expect(openingDay([winter, renovation], '2027-02-25')).toBe('2027-03-01')
    expect(openingDay([winter], '2027-06-01')).toBe('2027-06-01')
  })
})

describe('the closure form', () => {
  it('needs both dates in order, at most 366 days, and a note for "other"', () => {
    expect(checkClosure(emptyClosure())).toEqual({ start_date: { key: 'validation.required' }, end_date: { key: 'validation.required' } })
    expect(checkClosure({ ...emptyClosure(), start_date: '2027-02-01', end_date: '2027-01-31' }).end_date).toEqual({ key: 'c360.endBeforeStart' })
    expect(checkClosure({ ...emptyClosure(), start_date: '2027-01-01', end_date: '2028-01-02' }).end_date).toEqual({ key: 'c360.closureTooLong' })
    expect(checkClosure({ start_date: '2027-01-01', end_date: '2027-01-02', reason: 'other', note: ' ' }).note).toEqual({ key: 'c360.noteForOther' })
    expect(checkClosure({ start_date: '2027-01-01', end_date: '2027-01-02', reason: 'renovation', note: '' })).toEqual({})
  })

  it('sends only what changed, with the version read', () => {
    const before = { id: 'x', version: 4, start_date: '2027-01-20', end_date: '2027-02-18', reason: 'winter_break', note: '' } as Closure
    expect(closurePatch(before, { start_date: '2027-01-20', end_date: '2027-02-20', reason: 'winter_break', note: '' })).toEqual({
      expected_version: 4,
      end_date: '2027-02-20',
    })
  })
})
