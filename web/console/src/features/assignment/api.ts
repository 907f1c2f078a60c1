// 自动分配: the tenant's ordered rules (replaced whole, with the version read), the dry run, and
// the lists the conditions choose from.
import { call, type AssignmentRulesInput, type DryRunInput } from '@keyuan/shared'
import { api } from '../../app'

export const assignmentApi = {
  rules: () => call(api.GET('/api/v1/assignment-rules')),
  save: (body: AssignmentRulesInput) => call(api.PUT('/api/v1/assignment-rules', { body })),
  dryRun: (body: DryRunInput) => call(api.POST('/api/v1/assignment-rules/dry-run', { body })),
  customerTypes: () => call(api.GET('/api/v1/customer-types')),
  productLines: () => call(api.GET('/api/v1/product-lines')),
}
