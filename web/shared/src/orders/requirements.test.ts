import { describe, expect, it } from 'vitest'
import type { Product } from './api'
import { describeWarnings, requirementWarnings } from './requirements'

const product = (attributes: Partial<Product['attributes']>) =>
  ({
    attributes: { halal: false, organic: false, contains_pork: false, cold_chain: false, allergens: [], ...attributes },
  }) as Product

const halal = { kind: 'halal', label: '清真', details: [] }
const noPork = { kind: 'no_pork', label: '不含猪肉', details: [] }
const allergens = { kind: 'allergens', label: '过敏原', details: ['花生', '虾'] }
const coldChain = { kind: 'cold_chain', label: '冷链', details: [] }

describe('requirementWarnings', () => {
  it('warns a halal customer of a product that is not halal or contains pork', () => {
    expect(requirementWarnings([halal], product({ halal: true }))).toEqual([])
    expect(requirementWarnings([halal], product({}))).toHaveLength(1)
    expect(requirementWarnings([halal], product({ halal: true, contains_pork: true }))).toHaveLength(1)
  })

  it('names the excluded allergens a product contains', () => {
    const found = requirementWarnings([allergens, noPork], product({ allergens: ['虾', '牛奶'], contains_pork: true }))
    expect(describeWarnings(found)).toBe('过敏原（虾）、不含猪肉')
  })

  it('does not judge requirements that shape delivery rather than goods', () => {
    expect(requirementWarnings([coldChain], product({}))).toEqual([])
  })
})
