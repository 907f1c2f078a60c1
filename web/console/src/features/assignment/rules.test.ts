import type { AssignmentRule } from '@keyuan/shared'
import { describe, expect, it } from 'vitest'
import { checkRules, moveRule, ruleDraft, ruleFields, rulesBody } from './rules'

const saved: AssignmentRule = {
  id: 'r1',
  name: '浙江客户杭州轮流',
  enabled: true,
  conditions: { provinces: ['浙江'], product_lines: ['禽料'] },
  org_unit_id: 'o-hz',
  user_ids: [],
  user_names: [],
  strategy: 'round_robin',
} as AssignmentRule

describe('the assignment rules editor', () => {
  it('moves a rule up and down, and leaves the ends where they are', () => {
    expect(moveRule(['a', 'b', 'c'], 2, -1)).toEqual(['a', 'c', 'b'])
    expect(moveRule(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c'])
    expect(moveRule(['a', 'b', 'c'], 0, -1)).toEqual(['a', 'b', 'c'])
    expect(moveRule(['a', 'b', 'c'], 2, 1)).toEqual(['a', 'b', 'c'])
  })

  it('asks for a name and a target, by the API’s field names', () => {
    const fine = ruleDraft(saved)
    const unnamed = { ...ruleDraft(), name: ' ' }
    expect(checkRules([fine, unnamed])).toEqual({
      'rules[1].name': { key: 'assignment.nameRequired' },
      'rules[1].target': { key: 'assignment.targetRequired' },
    })
  })

  it('keeps a saved rule’s id and sends only the chosen target form', () => {
    const draft = ruleDraft(saved)
    draft.user_ids = ['u9'] // typed while "users" was chosen, then switched back to a unit
    const [body] = rulesBody([draft])
    expect(body).toMatchObject({ id: 'r1', name: '浙江客户杭州轮流', org_unit_id: 'o-hz', user_ids: [], strategy: 'round_robin' })
    expect(body!.conditions).toEqual({ provinces: ['浙江'], cities: [], districts: [], customer_types: [], product_lines: ['禽料'], sources: [] })
    draft.target = 'users'
    expect(rulesBody([draft])[0]).toMatchObject({ org_unit_id: null, user_ids: ['u9'] })
  })

  it('shows an API refusal such as rules[1].target.user_ids[0] on its rule’s target', () => {
    expect(ruleFields(2)).toContain('rules[1].target')
    expect(ruleFields(2)).toContain('rules[0].conditions.sources')
  })
})
