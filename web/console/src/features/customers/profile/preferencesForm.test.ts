import { describe, expect, it } from 'vitest'
import type { Customer } from '@keyuan/shared'
import { checkPreferences, preferencesDraft, preferencesFields, preferencesPatch, requirementsBody } from './preferencesForm'
import type { RequirementKind } from './api'

const kinds: RequirementKind[] = [
  { key: 'halal', label: '清真', description: '专用器具', details_label: '', takes_details: false },
  { key: 'allergens', label: '过敏原', description: '', details_label: '过敏原', takes_details: true },
  { key: 'cold_chain', label: '冷链', description: '', details_label: '', takes_details: false },
]

const customer = {
  id: 'c1',
  version: 7,
  preferences: {
    categories: ['新鲜蔬菜'],
    specifications: ['5kg/箱'],
    quality_grade: '一级',
    brands: [],
    delivery_windows: [{ weekday: 1, start: '06:00', end: '08:00' }],
    delivery_notes: '',
  },
  special_requirements: [
    { kind: 'allergens', label: '过敏原', details: ['花生'], details_label: '过敏原', note: '' },
    { kind: 'kosher', label: 'kosher', details: [], details_label: '', note: '已停用的类型' },
  ],
} as unknown as Customer

describe('the preferences form', () => {
  it('lists the tenant’s kinds, ticks those held, and keeps a kind the tenant removed', () => {
    const draft = preferencesDraft(customer, kinds)
    expect(Object.keys(draft.requirements)).toEqual(['halal', 'allergens', 'cold_chain', 'kosher'])
    expect(draft.requirements.allergens).toMatchObject({ on: true, details: ['花生'], takesDetails: true })
    expect(draft.requirements.halal?.on).toBe(false)
    expect(draft.requirements.kosher).toMatchObject({ on: true, label: 'kosher', note: '已停用的类型' })
  })

  it('sends nothing but the version when nothing changed', () => {
    expect(preferencesPatch(customer, kinds, preferencesDraft(customer, kinds))).toEqual({ expected_version: 7 })
  })

  it('sends the requirements whole when one is ticked, in the kinds’ order', () => {
    const draft = preferencesDraft(customer, kinds)
    draft.requirements.halal!.on = true
    draft.requirements.halal!.details = ['ignored']
    const patch = preferencesPatch(customer, kinds, draft)
    expect(patch.preferences).toBeUndefined()
    expect(patch.special_requirements).toEqual([
      { kind: 'halal', details: [], note: '' },
      { kind: 'allergens', details: ['花生'], note: '' },
      { kind: 'kosher', details: [], note: '已停用的类型' },
    ])
  })

  it('sends the preferences whole with tidied times when a window changes', () => {
    const draft = preferencesDraft(customer, kinds)
    draft.delivery_windows.push({ weekday: 3, start: '9:0', end: '1030' })
    expect(preferencesPatch(customer, kinds, draft).preferences?.delivery_windows).toEqual([
      { weekday: 1, start: '06:00', end: '08:00' },
      { weekday: 3, start: '09:00', end: '10:30' },
    ])
  })

  it('asks for the allergens of an allergen requirement, on its own index', () => {
    const draft = preferencesDraft(customer, kinds)
    draft.requirements.halal!.on = true
    draft.requirements.allergens!.details = []
    expect(checkPreferences(draft)).toEqual({ 'special_requirements[1].details': { key: 'c360.detailsRequired', values: { what: '过敏原' } } })
    expect(preferencesFields(draft)).toContain('special_requirements[1].details')
    expect(requirementsBody(draft).map((r) => r.kind)).toEqual(['halal', 'allergens', 'kosher'])
  })

  it('checks the delivery windows as the service does', () => {
    const draft = preferencesDraft(customer, kinds)
    draft.delivery_windows.push({ weekday: 1, start: '07:00', end: '09:00' })
    expect(checkPreferences(draft)).toHaveProperty(['preferences.delivery_windows[1].start'])
  })
})
