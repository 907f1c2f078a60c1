// The calls of a visit on the phone: a photo uploaded as an attachment of kind visit_photo, the
// visit itself (a follow-up of kind visit with its check-in and photos), the customer's
// closures and recent visits for the card.
import { call, followUpsApi, type components, type FollowUpInput } from '@keyuan/shared'
import { api } from '../../app'

export type Attachment = components['schemas']['AttachmentOut']
export type CheckIn = components['schemas']['CheckInIn']
export type ClosureList = components['schemas']['ClosureList']
export type Closure = components['schemas']['ClosureOut']

export const visitsApi = {
  /** multipart/form-data with `file` and `kind`; the gateway judges the type by the content. */
  uploadPhoto: (customerId: string, file: File) =>
    call(
      api.POST('/api/v1/customers/{customer_id}/attachments', {
        params: { path: { customer_id: customerId } },
        // The typed body names the form's fields; what is sent is the FormData built from it.
        body: { kind: 'visit_photo', file: file.name },
        bodySerializer: (body) => {
          const form = new FormData()
          form.append('kind', body.kind)
          form.append('file', file, file.name || 'photo.jpg')
          return form
        },
      }),
    ),
  logVisit: (customerId: string, body: FollowUpInput) => followUpsApi(api).log(customerId, body),
  recentFollowUps: (customerId: string) => followUpsApi(api).list(customerId),
  /** Closures ending today or later (the one covering today is `current`). */
  closures: (customerId: string, from: string) =>
    call(api.GET('/api/v1/customers/{customer_id}/closures', { params: { path: { customer_id: customerId }, query: { from } } })),
}
