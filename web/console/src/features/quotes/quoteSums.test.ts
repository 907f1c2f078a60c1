import { describe, expect, it } from 'vitest'
import { formatRate, quoteSums } from './quoteSums'

describe('the quote editor sums', () => {
  it('rounds each line half-up to the fen and totals the rounded lines', () => {
    // 3.05 × 0.33 = 1.0065 → 1.01; 1.5 × 12.33 = 18.495 → 18.50 (floating point says 18.49)
    const sums = quoteSums([
      { listPrice: '0.40', quantity: '3', quotedPrice: '0.34' },
      { listPrice: '0.33', quantity: '3.05', quotedPrice: '' },
      { listPrice: '12.33', quantity: '1.5', quotedPrice: '' },
    ])
    expect(sums.lines.map((line) => line.amount)).toEqual(['1.02', '1.01', '18.50'])
    expect(sums.total).toBe('20.53')
    expect(sums.listTotal).toBe('20.71')
    expect(sums.complete).toBe(true)
  })

  it('gives each line and the whole quote its rate, and asks for approval below 90%', () => {
    const sums = quoteSums([
      { listPrice: '100.00', quantity: '10', quotedPrice: '85' },
      { listPrice: '50.00', quantity: '2', quotedPrice: '' },
    ])
    expect(sums.lines.map((line) => line.rate)).toEqual(['85.00', '100.00'])
    expect(sums.lines.map((line) => line.rateBelow)).toEqual([true, false])
    // 950 over 1100
    expect(sums.rate).toBe('86.36')
    expect(sums.needsApproval).toBe(true)
  })

  it('needs no approval at exactly the threshold, and follows the tenant threshold', () => {
    const line = [{ listPrice: '100.00', quantity: '1', quotedPrice: '90.00' }]
    expect(quoteSums(line).needsApproval).toBe(false)
    expect(quoteSums(line, '95.00').needsApproval).toBe(true)
  })

  it('leaves a line it cannot read out of the totals and says the quote is incomplete', () => {
    const sums = quoteSums([
      { listPrice: '100.00', quantity: '0', quotedPrice: '' },
      { listPrice: '100.00', quantity: '1', quotedPrice: '12.345' },
      { listPrice: '20.00', quantity: '2', quotedPrice: '' },
    ])
    expect(sums.lines.map((line) => line.amount)).toEqual([null, null, '40.00'])
    expect(sums.total).toBe('40.00')
    expect(sums.complete).toBe(false)
  })

  it('has no rate for a product without a list price, which alone never needs approval', () => {
    const sums = quoteSums([{ listPrice: '0.00', quantity: '1', quotedPrice: '5' }])
    expect(sums.lines[0]!.rate).toBeNull()
    expect(sums.rate).toBeNull()
    expect(sums.needsApproval).toBe(false)
    expect(formatRate('88.50')).toBe('88.50%')
    expect(formatRate(null)).toBe('')
  })
})
