// Who may do what with the 公海, as the customer service decides it; the screens only hide what
// the API would refuse.
import type { Role } from '../api/models'

/** Owners release their own customers; supervisors, admins and bosses those in their scope. */
export const RELEASE_ROLES: readonly Role[] = ['sales', 'supervisor', 'admin', 'boss']
/** Roles that may claim from a pool or decide claims, and so see the 公海 page. */
export const POOL_ROLES: readonly Role[] = ['sales', 'supervisor', 'admin', 'boss']
/** Roles that decide claims of pools needing approval. */
export const DECIDE_ROLES: readonly Role[] = ['supervisor', 'admin', 'boss']
/** Roles that create pools, set their rules and set how many customers each rep may hold. */
export const POOL_RULE_ROLES: readonly Role[] = ['admin', 'boss']
/** Roles that hand a rep's customers over (离职交接) and follow the transfers. */
export const TRANSFER_ROLES: readonly Role[] = ['admin', 'boss', 'supervisor']
/** Roles that write the assignment rules (自动分配). */
export const ASSIGNMENT_EDIT_ROLES: readonly Role[] = ['admin', 'boss']
/** Roles that read the assignment rules and try them (dry run). */
export const ASSIGNMENT_READ_ROLES: readonly Role[] = ['admin', 'boss', 'supervisor']
