// Administration calls: org units, users, customer types, custom field definitions, the
// security policy.
import { call, type CustomFieldInput, type OrgUnit, type UserInput, type UserPatch } from '@keyuan/shared'
import { api } from '../../app'

export const adminApi = {
  createOrgUnit: (name: string, parentId: string) =>
    call(api.POST('/api/v1/org-units', { body: { name, parent_id: parentId } })),
  renameOrgUnit: (orgUnitId: string, name: string) =>
    call(api.PATCH('/api/v1/org-units/{org_unit_id}', { params: { path: { org_unit_id: orgUnitId } }, body: { name } })),
  createUser: (body: UserInput) => call(api.POST('/api/v1/users', { body })),
  /** Name and role; an admin cannot change their own role (the API answers 400 on `role`). */
  updateUser: (userId: string, body: UserPatch) =>
    call(api.PATCH('/api/v1/users/{user_id}', { params: { path: { user_id: userId } }, body })),
  setCustomerTypes: (items: string[]) => call(api.PUT('/api/v1/customer-types', { body: { items } })),
  unlockUser: async (userId: string): Promise<void> => {
    await call(api.POST('/api/v1/users/{user_id}/unlock', { params: { path: { user_id: userId } } }))
  },
  resetTwoFactor: async (userId: string): Promise<void> => {
    await call(api.POST('/api/v1/users/{user_id}/mfa/reset', { params: { path: { user_id: userId } } }))
  },
  securityPolicy: () => call(api.GET('/api/v1/security-policy')),
  setSecurityPolicy: (mfaRequired: boolean) =>
    call(api.PUT('/api/v1/security-policy', { body: { mfa_required: mfaRequired } })),
  setCustomFields: (items: CustomFieldInput[]) => call(api.PUT('/api/v1/custom-fields', { body: { items } })),
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
