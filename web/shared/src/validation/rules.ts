// Field checks for the forms, with the limits the gateway declares (limits.ts, generated from
// its OpenAPI document) and the Chinese rules of cn.ts. Each answers an i18n key and its values,
// or null when the value is fine.
import { LIMITS } from '../api/limits'
import { creditCodeProblem, parseMobile } from './cn'

export interface FieldMessage {
  key: string
  values?: Record<string, unknown>
}

export type Check = (value: unknown) => FieldMessage | null

interface Limit {
  minLength?: number
  maxLength?: number
  pattern?: string
  maxItems?: number
  itemMaxLength?: number
}

type Schemas = typeof LIMITS

/** The declared limits of `schema.field` (an empty object when it declares none). */
export function limitOf<S extends keyof Schemas>(schema: S, field: string): Limit {
  return ((LIMITS[schema] as Record<string, Limit>)[field] ?? {}) as Limit
}

const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '')

export const required: Check = (value) => {
  const empty = Array.isArray(value)
    ? value.length === 0
    : value === null || value === undefined || (typeof value === 'string' && value.trim() === '')
  return empty ? { key: 'validation.required' } : null
}

/** Length and pattern checks the gateway declares for `schema.field`; `required` when minLength ≥ 1. */
export function declared<S extends keyof Schemas>(schema: S, field: string, messageKey = 'validation.pattern'): Check {
  const limit = limitOf(schema, field)
  return (value) => {
    if (Array.isArray(value)) {
      if (limit.maxItems !== undefined && value.length > limit.maxItems) {
        return { key: 'validation.maxItems', values: { max: limit.maxItems } }
      }
      const tooLong = limit.itemMaxLength !== undefined && value.some((v) => String(v).length > limit.itemMaxLength!)
      return tooLong ? { key: 'validation.maxLength', values: { max: limit.itemMaxLength } } : null
    }
    const v = text(value)
    if ((limit.minLength ?? 0) >= 1 && v === '') return { key: 'validation.required' }
    if (v === '') return null
    if (limit.minLength !== undefined && v.length < limit.minLength) {
      return { key: 'validation.minLength', values: { min: limit.minLength } }
    }
    if (limit.maxLength !== undefined && v.length > limit.maxLength) {
      return { key: 'validation.maxLength', values: { max: limit.maxLength } }
    }
    if (limit.pattern !== undefined && !new RegExp(limit.pattern).test(v)) return { key: messageKey }
    return null
  }
}

export const mobile: Check = (value) => {
  const v = text(value)
  return v && parseMobile(v) === null ? { key: 'validation.mobile' } : null
}

export const creditCode: Check = (value) => {
  const v = text(value)
  if (!v) return null
  const problem = creditCodeProblem(v)
  return problem ? { key: `validation.${problem}` } : null
}

/** The first message of `checks` for `value`. */
export function firstProblem(value: unknown, checks: Check[]): FieldMessage | null {
  for (const check of checks) {
    const found = check(value)
    if (found) return found
  }
  return null
}

/** Every field's checks, as forms list them. */
export const CUSTOMER_CHECKS: Record<string, Check[]> = {
  name: [declared('CustomerIn', 'name')],
  short_name: [declared('CustomerIn', 'short_name')],
  type: [declared('CustomerIn', 'type')],
  credit_code: [creditCode],
  tags: [declared('CustomerIn', 'tags')],
}

export const CONTACT_CHECKS: Record<string, Check[]> = {
  name: [declared('ContactIn', 'name')],
  mobile: [mobile],
  wechat_id: [declared('ContactIn', 'wechat_id', 'validation.wechat')],
  email: [declared('ContactIn', 'email', 'validation.email')],
  title: [declared('ContactIn', 'title')],
}

export const ADDRESS_CHECKS: Record<string, Check[]> = Object.fromEntries(
  ['label', 'province', 'city', 'district', 'detail'].map((f) => [f, [declared('AddressIn', f)]]),
)

/** Messages for the fields of `values` that `checks` refuse (an empty object when all pass). */
export function checkAll(values: object, checks: Record<string, Check[]>): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = {}
  const byField = values as Record<string, unknown>
  for (const [field, fieldChecks] of Object.entries(checks)) {
    const problem = firstProblem(byField[field], fieldChecks)
    if (problem) found[field] = problem
  }
  return found
}

/** The contract may not end before it starts (ISO dates compare as strings). */
export function contractOrder(start: string | null | undefined, end: string | null | undefined): FieldMessage | null {
  return start && end && end < start ? { key: 'validation.contractOrder' } : null
}

/** A custom field's value against the tenant's definition of it (kind, options, required). */
export function customFieldProblem(
  definition: { type: string; required?: boolean; options?: string[] },
  value: unknown,
): FieldMessage | null {
  const empty = value === null || value === undefined || value === ''
  if (empty) return definition.required ? { key: 'validation.required' } : null
  switch (definition.type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : { key: 'validation.number' }
    case 'date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? null : { key: 'validation.pattern' }
    case 'boolean':
      return typeof value === 'boolean' ? null : { key: 'validation.pattern' }
    case 'choice':
      return (definition.options ?? []).includes(String(value)) ? null : { key: 'validation.pattern' }
    default:
      return typeof value === 'string' ? null : { key: 'validation.pattern' }
  }
}
