// The 360 page's calls beyond the customer itself (issue 12): preferences' and licences' kinds,
// tiers and their history, licences, closures, attachments and signed links, the group and its
// relations, revisits. Paths, bodies and answers are typed by the gateway's OpenAPI document.
import { call, type ApiClient, type components } from '@keyuan/shared'

type Schemas = components['schemas']

export type Alert = Schemas['AlertOut']
export type Preferences = Schemas['PreferencesOut']
export type PreferencesInput = Schemas['PreferencesIn']
export type DeliveryWindow = Schemas['DeliveryWindowIn']
export type SpecialRequirement = Schemas['SpecialRequirementOut']
export type SpecialRequirementInput = Schemas['SpecialRequirementIn']
export type RequirementKind = Schemas['RequirementKindIn']
export type TierLabels = Schemas['TierLabelsBody']
export type TierChange = Schemas['TierChangeOut']
export type StageChange = Schemas['StageChangeOut']
export type Grade = NonNullable<Schemas['CustomerOut']['grade']>
export type TierDimension = Schemas['TierChangeOut']['dimension']
export type Licence = Schemas['LicenceOut']
export type LicenceStatus = Schemas['LicenceOut']['status']
export type LicenceSummary = Schemas['LicenceSummaryOut']
export type LicenceSummaryStatus = Schemas['LicenceSummaryOut']['status']
export type LicenceInput = Schemas['LicenceIn']
export type LicencePatch = Schemas['LicencePatch']
export type LicenceKind = Schemas['LicenceKindModel']
export type Closure = Schemas['ClosureOut']
export type ClosureReason = Schemas['ClosureOut']['reason']
export type ClosureInput = Schemas['ClosureIn']
export type ClosurePatch = Schemas['ClosurePatch']
export type Attachment = Schemas['AttachmentOut']
export type AttachmentKind = Schemas['AttachmentOut']['kind']
export type CheckIn = Schemas['CheckInOut']
export type Photo = Schemas['PhotoOut']
export type SignedUrls = Schemas['SignedUrlsOut']
export type Group = Schemas['GroupOut']
export type GroupBranch = Schemas['GroupBranchOut']
export type GroupContact = Schemas['GroupContactOut']
export type Relation = Schemas['RelationOut']
export type RelationKind = Schemas['RelationIn']['kind']
export type RelationInput = Schemas['RelationIn']
export type Revisit = Schemas['RevisitTaskOut']

/** Every member of a generated union, in display order (the compiler checks the list is whole). */
function everyOf<T extends string>(members: Record<T, true>): readonly T[] {
  return Object.keys(members) as T[]
}

export const GRADES = everyOf<Grade>({ S: true, A: true, B: true, C: true })
export const CLOSURE_REASONS = everyOf<ClosureReason>({
  winter_break: true,
  summer_break: true,
  spring_festival: true,
  factory_shutdown: true,
  renovation: true,
  other: true,
})
export const RELATION_KINDS = everyOf<RelationKind>({
  upstream_supplier: true,
  downstream_customer: true,
  referred_by: true,
  referred: true,
  same_group: true,
})
export const UPLOAD_KINDS = everyOf<AttachmentKind>({ visit_photo: true, licence: true, contract: true, other: true })

const customerPath = (id: string) => ({ path: { customer_id: id } })

export const profileApi = (client: ApiClient) => ({
  requirementKinds: () => call(client.GET('/api/v1/special-requirement-kinds')),
  tierLabels: () => call(client.GET('/api/v1/tier-labels')),
  /** Set (a value) or clear (null) the manual tier or grade, with the reason kept in the history. */
  setManual: (id: string, dimension: TierDimension, value: string | null, reason: string, expectedVersion: number) =>
    call(
      dimension === 'tier'
        ? client.PUT('/api/v1/customers/{customer_id}/tier', {
            params: customerPath(id),
            body: { value, reason, expected_version: expectedVersion },
          })
        : client.PUT('/api/v1/customers/{customer_id}/grade', {
            params: customerPath(id),
            body: { value, reason, expected_version: expectedVersion },
          }),
    ),
  tierChanges: (id: string) =>
    call(client.GET('/api/v1/customers/{customer_id}/tier-changes', { params: { ...customerPath(id), query: { page_size: 100 } } })),
  stageChanges: (id: string) =>
    call(client.GET('/api/v1/customers/{customer_id}/stage-changes', { params: { ...customerPath(id), query: { page_size: 100 } } })),

  licenceKinds: () => call(client.GET('/api/v1/licence-kinds')),
  licences: (id: string) => call(client.GET('/api/v1/customers/{customer_id}/licences', { params: customerPath(id) })),
  addLicence: (id: string, body: LicenceInput) =>
    call(client.POST('/api/v1/customers/{customer_id}/licences', { params: customerPath(id), body })),
  changeLicence: (id: string, licenceId: string, body: LicencePatch) =>
    call(
      client.PATCH('/api/v1/customers/{customer_id}/licences/{licence_id}', {
        params: { path: { customer_id: id, licence_id: licenceId } },
        body,
      }),
    ),
  removeLicence: async (id: string, licenceId: string): Promise<void> => {
    await call(
      client.DELETE('/api/v1/customers/{customer_id}/licences/{licence_id}', {
        params: { path: { customer_id: id, licence_id: licenceId } },
      }),
    )
  },

  closures: (id: string) => call(client.GET('/api/v1/customers/{customer_id}/closures', { params: customerPath(id) })),
  addClosure: (id: string, body: ClosureInput) =>
    call(client.POST('/api/v1/customers/{customer_id}/closures', { params: customerPath(id), body })),
  changeClosure: (id: string, closureId: string, body: ClosurePatch) =>
    call(
      client.PATCH('/api/v1/customers/{customer_id}/closures/{closure_id}', {
        params: { path: { customer_id: id, closure_id: closureId } },
        body,
      }),
    ),
  removeClosure: async (id: string, closureId: string): Promise<void> => {
    await call(
      client.DELETE('/api/v1/customers/{customer_id}/closures/{closure_id}', {
        params: { path: { customer_id: id, closure_id: closureId } },
      }),
    )
  },

  attachments: (id: string, pageToken = '') =>
    call(
      client.GET('/api/v1/customers/{customer_id}/attachments', {
        params: { ...customerPath(id), query: { page_size: 50, page_token: pageToken } },
      }),
    ),
  upload: (id: string, file: File, kind: AttachmentKind, requestId: string) =>
    call(
      client.POST('/api/v1/customers/{customer_id}/attachments', {
        params: customerPath(id),
        body: { file: '', kind, request_id: requestId },
        bodySerializer: () => {
          const form = new FormData()
          form.append('file', file, file.name)
          form.append('kind', kind)
          form.append('request_id', requestId)
          return form
        },
      }),
    ),
  /** Refused (412 attachment_in_use) while a visit or a licence refers to the file. */
  deleteAttachment: (attachmentId: string) =>
    call(client.DELETE('/api/v1/attachments/{attachment_id}', { params: { path: { attachment_id: attachmentId } } })),
  /** Links an <img> or a new tab may open without the Authorization header, for a short while. */
  signedUrls: (attachmentId: string, seconds = 300) =>
    call(
      client.POST('/api/v1/attachments/{attachment_id}/signed-urls', {
        params: { path: { attachment_id: attachmentId } },
        body: { seconds },
      }),
    ),

  group: (id: string) => call(client.GET('/api/v1/customers/{customer_id}/group', { params: customerPath(id) })),
  setParent: (id: string, parentId: string | null, expectedVersion: number) =>
    call(
      client.PUT('/api/v1/customers/{customer_id}/parent', {
        params: customerPath(id),
        body: { parent_customer_id: parentId, expected_version: expectedVersion },
      }),
    ),
  relations: (id: string) => call(client.GET('/api/v1/customers/{customer_id}/relations', { params: customerPath(id) })),
  addRelation: (id: string, body: RelationInput) =>
    call(client.POST('/api/v1/customers/{customer_id}/relations', { params: customerPath(id), body })),
  removeRelation: async (id: string, relationId: string): Promise<void> => {
    await call(
      client.DELETE('/api/v1/customers/{customer_id}/relations/{relation_id}', {
        params: { path: { customer_id: id, relation_id: relationId } },
      }),
    )
  },

  revisits: (id: string) =>
    call(client.GET('/api/v1/customers/{customer_id}/revisits', { params: { ...customerPath(id), query: { page_size: 100 } } })),
})

export type ProfileApi = ReturnType<typeof profileApi>
