// The customer form's model: what the form edits, what a create sends, what an edit changes.
import {
  ADDRESS_CHECKS,
  checkAll,
  CONTACT_CHECKS,
  contractOrder,
  CUSTOMER_CHECKS,
  customFieldProblem,
  type Address,
  type ContactInput,
  type Customer,
  type CustomerInput,
  type CustomerPatch,
  type CustomFieldDefinition,
  type FieldMessage,
  type LifecycleStage,
} from '@keyuan/shared'

export interface CustomerDraft {
  name: string
  short_name: string
  type: string
  credit_code: string
  lifecycle_stage: LifecycleStage
  owner_id: string
  tags: string[]
  contract_start: string | null
  contract_end: string | null
  addresses: Required<Address>[]
  custom_fields: Record<string, unknown>
  contact: Required<Pick<ContactInput, 'name' | 'mobile' | 'wechat_id' | 'title'>> & {
    decision_role: ContactInput['decision_role']
  }
}

export const emptyAddress = (): Required<Address> => ({ label: '', province: '', city: '', district: '', detail: '' })

export function emptyDraft(): CustomerDraft {
  return {
    name: '',
    short_name: '',
    type: '',
    credit_code: '',
    lifecycle_stage: 'lead',
    owner_id: '',
    tags: [],
    contract_start: null,
    contract_end: null,
    addresses: [],
    custom_fields: {},
    contact: { name: '', mobile: '', wechat_id: '', title: '', decision_role: null },
  }
}

export function draftOf(customer: Customer): CustomerDraft {
  return {
    ...emptyDraft(),
    name: customer.name,
    short_name: customer.short_name,
    type: customer.type,
    credit_code: customer.credit_code ?? '',
    lifecycle_stage: customer.lifecycle_stage,
    owner_id: customer.owner_id ?? '', // null while a pool holds the customer
    tags: [...customer.tags],
    contract_start: customer.contract_start,
    contract_end: customer.contract_end,
    addresses: customer.addresses.map((a) => ({ ...emptyAddress(), ...a })),
    custom_fields: { ...customer.custom_fields },
  }
}

const hasContact = (draft: CustomerDraft) =>
  Object.values(draft.contact).some((v) => typeof v === 'string' && v.trim() !== '')

/** Every problem the form can see before sending, keyed by the API's field names. */
export function checkDraft(
  draft: CustomerDraft,
  definitions: CustomFieldDefinition[],
  { creating }: { creating: boolean },
): Record<string, FieldMessage> {
  const found: Record<string, FieldMessage> = { ...checkAll(draft, CUSTOMER_CHECKS) }
  const order = contractOrder(draft.contract_start, draft.contract_end)
  if (order) found.contract_end = order
  draft.addresses.forEach((address, index) => {
    for (const [field, message] of Object.entries(checkAll(address, ADDRESS_CHECKS))) {
      found[`addresses[${index}].${field}`] = message
    }
  })
  for (const definition of definitions) {
    const problem = customFieldProblem(definition, draft.custom_fields[definition.key])
    if (problem) found[`custom_fields.${definition.key}`] = problem
  }
  if (creating && hasContact(draft)) {
    for (const [field, message] of Object.entries(checkAll(draft.contact, CONTACT_CHECKS))) {
      found[`contacts[0].${field}`] = message
    }
  }
  return found
}

const CUSTOMER_INPUTS = ['name', 'short_name', 'type', 'lifecycle_stage', 'credit_code', 'tags', 'contract_start', 'contract_end']
const ADDRESS_INPUTS = ['label', 'province', 'city', 'district', 'detail']
const FIRST_CONTACT_INPUTS = ['name', 'mobile', 'wechat_id', 'decision_role', 'title']

/** The API field names the form has an input for, so a refusal is shown beside its input (or
 * listed above the form when it has none). */
export function formFields(
  draft: CustomerDraft,
  definitions: CustomFieldDefinition[],
  { creating, chooseOwner }: { creating: boolean; chooseOwner: boolean },
): string[] {
  return [
    ...CUSTOMER_INPUTS,
    ...(chooseOwner ? ['owner_id'] : []),
    ...draft.addresses.flatMap((_, index) => ADDRESS_INPUTS.map((field) => `addresses[${index}].${field}`)),
    ...definitions.map((definition) => `custom_fields.${definition.key}`),
    ...(creating ? FIRST_CONTACT_INPUTS.map((field) => `contacts[0].${field}`) : []),
  ]
}

/** A duplicate names the contact's field without its place ("mobile"); on the create form the
 * only contact is the first. */
export const DUPLICATE_ALIASES: Record<string, string> = {
  mobile: 'contacts[0].mobile',
  wechat_id: 'contacts[0].wechat_id',
}

function cleanCustomFields(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== '' && v !== null && v !== undefined))
}

export function createBody(draft: CustomerDraft, requestId: string, { chooseOwner }: { chooseOwner: boolean }): CustomerInput {
  const body: CustomerInput = {
    name: draft.name.trim(),
    short_name: draft.short_name.trim(),
    type: draft.type,
    credit_code: draft.credit_code.trim() || null,
    lifecycle_stage: draft.lifecycle_stage,
    tags: draft.tags,
    contract_start: draft.contract_start || null,
    contract_end: draft.contract_end || null,
    addresses: draft.addresses,
    custom_fields: cleanCustomFields(draft.custom_fields),
    contacts: hasContact(draft) ? [{ ...draft.contact, primary: true }] : [],
    request_id: requestId,
  }
  if (chooseOwner && draft.owner_id) body.owner_id = draft.owner_id
  return body
}

/** Only what changed, with the version read, so a concurrent edit is refused rather than lost. */
export function patchBody(before: Customer, draft: CustomerDraft): CustomerPatch {
  const original = draftOf(before)
  const patch: CustomerPatch = { expected_version: before.version }
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
  if (draft.name.trim() !== original.name) patch.name = draft.name.trim()
  if (draft.short_name.trim() !== original.short_name) patch.short_name = draft.short_name.trim()
  if (draft.type !== original.type) patch.type = draft.type
  if (draft.credit_code.trim() !== original.credit_code) patch.credit_code = draft.credit_code.trim() || null
  if (draft.lifecycle_stage !== original.lifecycle_stage) patch.lifecycle_stage = draft.lifecycle_stage
  if (draft.owner_id && draft.owner_id !== original.owner_id) patch.owner_id = draft.owner_id
  if (!same(draft.tags, original.tags)) patch.tags = draft.tags
  if ((draft.contract_start || null) !== original.contract_start) patch.contract_start = draft.contract_start || null
  if ((draft.contract_end || null) !== original.contract_end) patch.contract_end = draft.contract_end || null
  if (!same(draft.addresses, original.addresses)) patch.addresses = draft.addresses
  const custom = cleanCustomFields(draft.custom_fields)
  if (!same(custom, cleanCustomFields(original.custom_fields))) patch.custom_fields = custom
  return patch
}
