import { describe, expect, it } from 'vitest'
import { daysLeftText, licenceBadge } from './licenceStatus'

describe('licence badges', () => {
  it('shows valid green, expiring amber, expired and missing red', () => {
    expect(licenceBadge('valid')).toEqual({ type: 'success', key: 'c360.licenceStatus.valid' })
    expect(licenceBadge('expiring')).toEqual({ type: 'warning', key: 'c360.licenceStatus.expiring' })
    expect(licenceBadge('expired')).toEqual({ type: 'danger', key: 'c360.licenceStatus.expired' })
    expect(licenceBadge('missing')).toEqual({ type: 'danger', key: 'c360.licenceStatus.missing' })
  })

  it('says how long is left, or how long ago it ran out', () => {
    expect(daysLeftText(null)).toEqual({ key: 'c360.neverExpires' })
    expect(daysLeftText(0)).toEqual({ key: 'c360.expiresToday' })
    expect(daysLeftText(7)).toEqual({ key: 'c360.daysLeft', values: { days: 7 } })
    expect(daysLeftText(-3)).toEqual({ key: 'c360.daysOverdue', values: { days: 3 } })
  })
})
