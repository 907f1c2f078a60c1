// Administration calls: org units, users, customer types and custom field definitions.
import { call, type CustomFieldDefinition, type Items, type OrgUnit, type User, type UserInput } from '@keyuan/shared'
import { api } from '../../app'

export const adminApi = {
  createOrgUnit: async (name: string, parentId: string) =>
    (await call(api.POST('/api/v1/org-units', { body: { name, parent_id: parentId } }))) as unknown as OrgUnit,
  createUser: async (body: UserInput) => (await call(api.POST('/api/v1/users', { body }))) as unknown as User,
  setCustomerTypes: async (items: string[]) =>
    (await call(api.PUT('/api/v1/customer-types', { body: { items } }))) as unknown as Items<string>,
  unlockUser: async (userId: string) => {
    await call(api.POST('/api/v1/users/{user_id}/unlock', { params: { path: { user_id: userId } } }))
  },
  resetTwoFactor: async (userId: string) => {
    await call(api.POST('/api/v1/users/{user_id}/mfa/reset', { params: { path: { user_id: userId } } }))
  },
  securityPolicy: async () => await call(api.GET('/api/v1/security-policy')),
  setSecurityPolicy: async (mfaRequired: boolean) =>
    await call(api.PUT('/api/v1/security-policy', { body: { mfa_required: mfaRequired } })),
  setCustomFields: async (items: CustomFieldDefinition[]) =>
    (await call(api.PUT('/api/v1/custom-fields', { body: { items } }))) as unknown as Items<CustomFieldDefinition>,
}

export interface UnitNode extends OrgUnit {
  children: UnitNode[]
}

/** The flat list of units as a tree (HQ → subsidiaries → shops), in the API's path order. */
export function unitTree(units: OrgUnit[]): UnitNode[] {
  const nodes = new Map(units.map((u) => [u.id, { ...u, children: [] as UnitNode[] }]))
  const roots: UnitNode[] = []
  for (const node of nodes.values()) {
    const parent = node.parent_id ? nodes.get(node.parent_id) : undefined
    if (parent) parent.children.push(node)
    else roots.push(node)
  }
  return roots
}
