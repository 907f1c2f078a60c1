import type { CustomerCaps } from '@keyuan/shared'
import { describe, expect, it } from 'vitest'
import { capRows, capsChanges, effectiveCap } from './caps'

const saved: CustomerCaps = {
  default_cap: null,
  users: [
    { user_id: 'u1', user_name: '张伟', cap: null, held: 12 },
    { user_id: 'u2', user_name: '李娜', cap: 50, held: 48 },
  ],
}

describe('customer caps in the editor', () => {
  it('sends nothing when nothing changed', () => {
    expect(capsChanges(saved, 0, capRows(saved))).toBeNull()
  })

  it('sends a default of 0 as no cap, and only the people whose own cap changed', () => {
    const rows = capRows(saved)
    rows[1]!.own = null
    expect(capsChanges(saved, 200, rows)).toEqual({ default_cap: 200, users: [{ user_id: 'u2', cap: null }] })
    const capped = { ...saved, default_cap: 200 }
    expect(capsChanges(capped, 0, capRows(capped))).toEqual({ default_cap: null })
  })

  it('applies a person’s own cap, else the default, else none', () => {
    expect(effectiveCap(50, 200)).toBe(50)
    expect(effectiveCap(null, 200)).toBe(200)
    expect(effectiveCap(null, null)).toBeNull()
  })
})
