import { describe, expect, it } from 'vitest'
import { mayChange, TABS_360, visibleTabs } from './customerTabs'

describe('the 360 page’s tabs by role', () => {
  it('shows every tab to those who run customers', () => {
    for (const role of ['admin', 'boss', 'supervisor', 'sales'] as const) expect(visibleTabs(role)).toEqual([...TABS_360])
  })

  it('hides licences from service staff, who still see requirements and closures', () => {
    expect(visibleTabs('service')).not.toContain('licences')
    expect(visibleTabs('service')).toEqual(expect.arrayContaining(['preferences', 'closures', 'visits']))
  })

  it('hides closures from finance, who still see licences', () => {
    expect(visibleTabs('finance')).not.toContain('closures')
    expect(visibleTabs('finance')).toContain('licences')
  })

  it('shows nothing before the user is known', () => {
    expect(visibleTabs(undefined)).toEqual([])
  })

  it('lets only the roles that change customers write, and never a read-only collaborator or an archived customer', () => {
    expect(mayChange('sales', null, false)).toBe(true)
    expect(mayChange('sales', 'read_write', false)).toBe(true)
    expect(mayChange('sales', 'read', false)).toBe(false)
    expect(mayChange('supervisor', null, true)).toBe(false)
    expect(mayChange('service', null, false)).toBe(false)
    expect(mayChange('finance', null, false)).toBe(false)
  })
})
