import { describe, expect, it } from 'vitest'
import { diffRows, diffValue } from './revisionDiff'

describe('diffRows', () => {
  it('shows each changed field with its value before and after', () => {
    expect(diffRows({ delivery_date: { before: '2026-12-08', after: '2026-12-09' }, urgent: { before: false, after: true } })).toEqual([
      { field: 'delivery_date', before: '2026-12-08', after: '2026-12-09' },
      { field: 'urgent', before: 'false', after: 'true' },
    ])
  })

  it('reads order lines as SKU × quantity @ price', () => {
    expect(diffValue([{ sku: 'NR-001', quantity: '2', unit_price: '35.00' }, { sku: 'YR-002', quantity: '1.5' }])).toBe(
      'NR-001 × 2 @ 35.00；YR-002 × 1.5',
    )
  })

  it('shows an empty value as a dash', () => {
    expect(diffRows({ notes: { before: '', after: '下午送' } })[0]).toEqual({ field: 'notes', before: '—', after: '下午送' })
  })
})
