// What admins and bosses set for the customer profile (issue 12): closure calendar templates
// (校历) and the customers they are applied to, licence kinds, special-requirement kinds, the
// names of tiers and grades, and the revisit plans. Types are the OpenAPI document's.
import { call, type components } from '@keyuan/shared'
import { api } from '../../app'

type Schemas = components['schemas']

export type ClosureTemplate = Schemas['TemplateOut']
export type ClosureTemplateInput = Schemas['TemplateIn']
export type ClosureTemplatePatch = Schemas['TemplatePatch']
export type TemplateRangeInput = Schemas['TemplateRangeIn']
export type ClosureReason = Schemas['TemplateRangeIn']['reason']
export type TemplateCustomer = Schemas['TemplateCustomerOut']
export type ApplyInput = Schemas['ApplyIn']
export type ApplyResult = Schemas['ApplyOut']
export type ApplyFilter = Schemas['CustomerFilterIn']
export type LicenceKind = Schemas['LicenceKindModel']
export type RequirementKind = Schemas['RequirementKindIn']
export type TierLabels = Schemas['TierLabelsBody']
export type RevisitPlan = Schemas['RevisitPlan']

const template = (id: string) => ({ params: { path: { template_id: id } } })

export const profileSettingsApi = {
  templates: () => call(api.GET('/api/v1/closure-templates')),
  createTemplate: (body: ClosureTemplateInput) => call(api.POST('/api/v1/closure-templates', { body })),
  updateTemplate: (id: string, body: ClosureTemplatePatch) =>
    call(api.PATCH('/api/v1/closure-templates/{template_id}', { ...template(id), body })),
  deleteTemplate: (id: string) => call(api.DELETE('/api/v1/closure-templates/{template_id}', template(id))),
  templateCustomers: (id: string, pageToken = '') =>
    call(
      api.GET('/api/v1/closure-templates/{template_id}/customers', {
        params: { path: { template_id: id }, query: { page_size: 50, page_token: pageToken } },
      }),
    ),
  applyTemplate: (id: string, body: ApplyInput) =>
    call(api.POST('/api/v1/closure-templates/{template_id}/customers', { ...template(id), body })),
  removeTemplateCustomers: (id: string, customerIds: string[]) =>
    call(api.POST('/api/v1/closure-templates/{template_id}/customers/remove', { ...template(id), body: { customer_ids: customerIds } })),
  licenceKinds: () => call(api.GET('/api/v1/licence-kinds')),
  setLicenceKinds: (items: LicenceKind[]) => call(api.PUT('/api/v1/licence-kinds', { body: { items } })),
  requirementKinds: () => call(api.GET('/api/v1/special-requirement-kinds')),
  setRequirementKinds: (items: RequirementKind[]) => call(api.PUT('/api/v1/special-requirement-kinds', { body: { items } })),
  tierLabels: () => call(api.GET('/api/v1/tier-labels')),
  setTierLabels: (body: TierLabels) => call(api.PUT('/api/v1/tier-labels', { body })),
  revisitPlans: () => call(api.GET('/api/v1/revisit-plans')),
  setRevisitPlans: (plans: RevisitPlan[]) => call(api.PUT('/api/v1/revisit-plans', { body: { plans } })),
}
