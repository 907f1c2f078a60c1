// @vitest-environment node
// The pool form's defaults and bounds are the gateway's: held to its OpenAPI document, so a
// change there fails here instead of the form quietly disagreeing with the API.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { MAX_CAP } from './caps'
import { DEFAULT_RULES, MAX_RULE_DAYS } from './rules'

interface Property {
  default?: unknown
  maximum?: number
  minimum?: number
  anyOf?: Property[]
  additionalProperties?: Property
}
const document = JSON.parse(readFileSync(fileURLToPath(new URL('../../../../shared/openapi.json', import.meta.url)), 'utf8')) as {
  components: { schemas: Record<string, { properties: Record<string, Property> }> }
}
const schema = (name: string) => document.components.schemas[name]!.properties

describe('the pool form against the OpenAPI document', () => {
  it('starts from the defaults of PoolRulesModel', () => {
    const rules = schema('PoolRulesModel')
    for (const [field, value] of Object.entries(DEFAULT_RULES)) {
      if (field === 'no_follow_up_days') continue // a default_factory: not in the document
      expect(rules[field]!.default, field).toEqual(value)
    }
  })

  it('bounds every count as the gateway does', () => {
    const rules = schema('PoolRulesModel')
    for (const property of Object.values(rules)) {
      const bounded = property.additionalProperties ?? property
      if (bounded.maximum === undefined) continue
      expect([bounded.minimum, bounded.maximum]).toEqual([0, MAX_RULE_DAYS])
    }
    const cap = schema('UserCapIn').cap!.anyOf!.find((branch) => branch.maximum !== undefined)!
    expect([cap.minimum, cap.maximum]).toEqual([1, MAX_CAP])
  })
})
