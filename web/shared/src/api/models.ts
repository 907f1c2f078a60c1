// Shapes of the answers the gateway's OpenAPI document does not declare yet.
//
// Request bodies, parameters and the token answers come typed from schema.d.ts. The gateway's
// read routes return plain dicts (`dict[str, Any]`), so their OpenAPI response is an untyped
// object; until it declares response models, these mirror what the routes build, in one place:
// gateway/src/crm_gateway/customers/schemas.py (customer_out, contact_out, custom_field_out),
// directory/router.py (unit_out, user_out), auth/router.py (me), analytics/router.py.
import type { components } from './schema'

type Schemas = components['schemas']

export type Role = Schemas['Role']
export type LifecycleStage = NonNullable<Schemas['CustomerIn']['lifecycle_stage']>
export type DecisionRole = NonNullable<Schemas['ContactIn']['decision_role']>
export type CustomFieldType = Schemas['CustomFieldIn']['type']
export type CustomerInput = Schemas['CustomerIn']
export type CustomerPatch = Schemas['CustomerPatch']
export type ContactInput = Schemas['ContactIn']
export type ContactPatch = Schemas['ContactPatch']
export type Address = Schemas['AddressIn']
export type CustomFieldDefinition = Schemas['CustomFieldIn']
export type UserInput = Schemas['UserIn']
export type TokensOut = Schemas['TokensOut']
export type SecondStepOut = Schemas['SecondStepOut']
export type EnrolmentStartOut = Schemas['EnrolmentStartOut']
export type EnrolmentConfirmedOut = Schemas['EnrolmentConfirmedOut']

export const LIFECYCLE_STAGES: readonly LifecycleStage[] = ['lead', 'prospect', 'signed', 'dormant', 'lost']
export const DECISION_ROLES: readonly DecisionRole[] = ['decision_maker', 'purchaser', 'user', 'payer']
export const ROLES: readonly Role[] = ['admin', 'boss', 'supervisor', 'sales', 'service', 'finance']
export const CUSTOM_FIELD_TYPES: readonly CustomFieldType[] = ['text', 'number', 'date', 'boolean', 'choice']

export interface Contact {
  id: string
  customer_id: string
  name: string
  /** Masked (138****8000) for roles without the `pii` permission. */
  mobile: string
  /** Absent for service and finance. */
  wechat_id?: string
  email: string
  decision_role: DecisionRole | null
  title: string
  primary: boolean
  created_at: string
  updated_at: string
}

export interface Customer {
  id: string
  name: string
  short_name: string
  type: string
  credit_code: string | null
  addresses: Partial<Address>[]
  contacts: Contact[]
  contract_start: string | null
  contract_end: string | null
  tags: string[]
  custom_fields: Record<string, unknown>
  lifecycle_stage: LifecycleStage
  owner_id: string
  owner_name: string
  org_unit_id: string
  archived: boolean
  version: number
  created_at: string
  updated_at: string
}

export interface CustomerPage {
  items: Customer[]
  next_page_token: string | null
}

export interface Me {
  id: string
  username: string
  display_name: string
  role: Role
  tenant_id: string
  org_unit: { id: string; name: string; kind: OrgUnitKind }
  permissions: string[]
  mfa_enabled: boolean
}

export type OrgUnitKind = 'hq' | 'subsidiary' | 'shop'

export interface OrgUnit {
  id: string
  name: string
  kind: OrgUnitKind
  parent_id: string | null
  path: string
}

export interface User {
  id: string
  username: string
  display_name: string
  role: Role
  org_unit_id: string
  org_unit_name: string
  active: boolean
}

export interface CustomerCount {
  org_unit_id: string
  owner_id: string
  lifecycle_stage: LifecycleStage
  type: string
  count: number
}

export interface CustomerSummary {
  total: number
  counts: CustomerCount[]
  new_per_day: { date: string; count: number }[]
}

export interface Items<T> {
  items: T[]
}
