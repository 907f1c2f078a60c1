// Short names for the gateway's request and answer shapes. Every one is an alias of a schema in
// the generated schema.d.ts (from the gateway's OpenAPI document); nothing here retypes a field.
import type { components, paths } from './schema'

type Schemas = components['schemas']

export type Role = Schemas['Role']
export type LifecycleStage = Schemas['CustomerOut']['lifecycle_stage']
export type DecisionRole = NonNullable<Schemas['ContactOut']['decision_role']>
export type CustomFieldType = Schemas['CustomFieldOut']['type']
export type OrgUnitKind = Schemas['OrgUnitOut']['kind']

// Answers.
export type Customer = Schemas['CustomerOut']
export type CustomerPage = Schemas['CustomerPage']
/** `mobile` and `email` come masked, and `wechat_id` null, for roles that may not see them. */
export type Contact = Schemas['ContactOut']
export type ContactList = Schemas['ContactList']
export type CustomFieldDefinition = Schemas['CustomFieldOut']
export type CustomFieldList = Schemas['CustomFieldList']
export type CustomerTypeList = Schemas['CustomerTypeList']
export type Me = Schemas['MeOut']
export type OrgUnit = Schemas['OrgUnitOut']
export type OrgUnitList = Schemas['OrgUnitList']
export type User = Schemas['UserOut']
export type UserList = Schemas['UserList']
export type CustomerSummary = Schemas['CustomerSummaryOut']
export type CustomerCount = Schemas['CustomerCountOut']
export type TokensOut = Schemas['TokensOut']
export type SecondStepOut = Schemas['SecondStepOut']
export type EnrolmentStartOut = Schemas['EnrolmentStartOut']
export type EnrolmentConfirmedOut = Schemas['EnrolmentConfirmedOut']
export type FollowUp = Schemas['FollowUpOut']
export type FollowUpKind = Schemas['FollowUpOut']['kind']
export type FollowUpTask = Schemas['FollowUpTaskOut']
export type FollowUpTaskPage = Schemas['FollowUpTaskPage']
export type FollowUpDue = NonNullable<NonNullable<paths['/api/v1/follow-up-tasks']['get']['parameters']['query']>['due']>
export type OwnerChange = Schemas['OwnerChangeOut']
export type OwnerChangeKind = Schemas['OwnerChangeOut']['kind']
export type Pool = Schemas['PoolOut']
export type PoolCustomer = Schemas['PoolCustomerOut']
export type Claim = Schemas['ClaimOut']
export type ClaimStatus = Schemas['ClaimOut']['status']
export type ClaimView = NonNullable<NonNullable<paths['/api/v1/pool-claims']['get']['parameters']['query']>['view']>
export type Tier = Schemas['PoolCustomerOut']['tier']
export type PoolRules = Schemas['PoolRulesModel']
export type CustomerCaps = Schemas['CustomerCapsOut']
export type UserCap = Schemas['UserCapOut']
export type OwnershipSummary = Schemas['OwnershipSummaryOut']
export type PoolSize = Schemas['PoolSizeOut']
export type PoolMovement = Schemas['PoolMovementOut']
export type PoolMovementKind = Schemas['PoolMovementOut']['kind']
export type Coverage = Schemas['CoverageOut']
export type Notification = Schemas['NotificationOut']
export type NotificationPage = Schemas['NotificationPage']
export type NotificationKind = Schemas['NotificationOut']['kind']
export type NotificationLink = Schemas['NotificationOut']['link_type']
export type Collaborator = Schemas['CollaboratorOut']
export type CollaboratorAccess = Schemas['CollaboratorIn']['access']
export type AssignmentRule = Schemas['RuleOut']
export type AssignmentRules = Schemas['RulesOut']
export type AssignmentConditions = Schemas['ConditionsModel']
export type AssignmentStrategy = Schemas['RuleIn']['strategy']
export type CustomerSource = NonNullable<Schemas['ConditionsModel']['sources']>[number]
export type DryRunResult = Schemas['DryRunOut']
export type RuleCheck = Schemas['RuleCheckOut']
export type Transfer = Schemas['TransferOut']
export type TransferPage = Schemas['TransferPage']
export type TransferMode = Schemas['TransferIn']['mode']
export type TransferStatus = Schemas['TransferOut']['status']
export type TransferFilter = Schemas['TransferFilterModel']

// Requests.
export type CustomerInput = Schemas['CustomerIn']
export type CustomerPatch = Schemas['CustomerPatch']
export type ContactInput = Schemas['ContactIn']
export type ContactPatch = Schemas['ContactPatch']
export type Address = Schemas['AddressIn']
export type CustomFieldInput = Schemas['CustomFieldIn']
export type UserInput = Schemas['UserIn']
export type UserPatch = Schemas['UserPatch']
export type OrgUnitPatch = Schemas['OrgUnitPatch']
export type FollowUpInput = Schemas['FollowUpIn']
export type FollowUpPatch = Schemas['FollowUpPatch']
export type ClaimInput = Schemas['ClaimIn']
export type ReleaseInput = Schemas['ReleaseIn']
export type DecisionInput = Schemas['DecisionIn']
export type PoolInput = Schemas['PoolIn']
export type PoolPatch = Schemas['PoolPatch']
export type CustomerCapsInput = Schemas['CustomerCapsIn']
export type CollaboratorInput = Schemas['CollaboratorIn']
export type AssignmentRuleInput = Schemas['RuleIn']
export type AssignmentRulesInput = Schemas['RulesIn']
export type DryRunInput = Schemas['DryRunIn']
export type TransferInput = Schemas['TransferIn']
export type HandoverInput = Schemas['HandoverIn']
export type CustomerQuery = NonNullable<paths['/api/v1/customers']['get']['parameters']['query']>
export type CustomerSort = NonNullable<CustomerQuery['sort']>

/** Every member of a generated union, in display order: the compiler refuses a list that misses
 * a member or names one the API does not have. */
function everyOf<T extends string>(members: Record<T, true>): readonly T[] {
  return Object.keys(members) as T[]
}

export const LIFECYCLE_STAGES = everyOf<LifecycleStage>({ lead: true, prospect: true, signed: true, dormant: true, lost: true })
export const DECISION_ROLES = everyOf<DecisionRole>({ decision_maker: true, purchaser: true, user: true, payer: true })
export const ROLES = everyOf<Role>({ admin: true, boss: true, supervisor: true, sales: true, service: true, finance: true })
export const CUSTOM_FIELD_TYPES = everyOf<CustomFieldType>({ text: true, number: true, date: true, boolean: true, choice: true })
/** The list's order when none is chosen (a search is ranked by relevance instead). */
export const DEFAULT_CUSTOMER_SORT: CustomerSort = '-created_at'
export const FOLLOW_UP_KINDS = everyOf<FollowUpKind>({ phone: true, wechat: true, visit: true, email: true, meeting: true, other: true })
export const OWNER_CHANGE_KINDS = everyOf<OwnerChangeKind>({
  created: true,
  assigned_by_rule: true,
  claimed: true,
  approved: true,
  transferred: true,
  released: true,
  returned_by_rule: true,
})
export const CLAIM_STATUSES = everyOf<ClaimStatus>({ pending: true, approved: true, rejected: true, expired: true, withdrawn: true })
export const TIERS = everyOf<Tier>({ vip: true, key: true, normal: true })
export const POOL_MOVEMENT_KINDS = everyOf<PoolMovementKind>({ claimed: true, returned: true, released: true })
export const COLLABORATOR_ACCESS = everyOf<CollaboratorAccess>({ read: true, read_write: true })
export const ASSIGNMENT_STRATEGIES = everyOf<AssignmentStrategy>({ round_robin: true, least_loaded: true, fixed: true })
export const CUSTOMER_SOURCES = everyOf<CustomerSource>({ trade_show: true, online: true, referral: true, phone: true, other: true })
export const TRANSFER_MODES = everyOf<TransferMode>({ one_user: true, evenly: true, by_rules: true, pool: true })
