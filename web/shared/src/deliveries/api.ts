// Delivery calls both apps make (issue 13, delivery): an order's dispatch and delivery, dispatch
// with batches, delivery photos and the confirmation. Types are the OpenAPI document's.
import { call, type ApiClient } from '../api/client'
import type { components } from '../api/schema'
import type { Role } from '../api/models'
import { newRequestId } from '../customers/api'

type Schemas = components['schemas']

export type OrderDelivery = Schemas['OrderDeliveryOut']
export type DispatchInput = Schemas['DispatchIn']
export type DispatchBatchInput = Schemas['BatchIn']
export type ConfirmationInput = Schemas['ConfirmationIn']
export type DeliveryException = NonNullable<ConfirmationInput['exception']>
export type DeliveryPhoto = Schemas['DeliveryPhotoOut']
export type DeliveryChanged = Schemas['DeliveryChanged']

export const DELIVERY_EXCEPTIONS: readonly DeliveryException[] = ['partial', 'refused', 'damaged']
/** Who may dispatch and confirm deliveries (the order service's ACTION_ROLES). */
export const DELIVERY_ROLES: readonly Role[] = ['admin', 'boss', 'supervisor', 'service']

const orderPath = (id: string) => ({ path: { order_id: id } })

export const deliveriesApi = (client: ApiClient) => ({
  get: (orderId: string) => call(client.GET('/api/v1/orders/{order_id}/delivery', { params: orderPath(orderId) })),
  dispatch: (orderId: string, body: DispatchInput) =>
    call(client.POST('/api/v1/orders/{order_id}/delivery/dispatch', { params: orderPath(orderId), body })),
  confirm: (orderId: string, body: ConfirmationInput) =>
    call(client.POST('/api/v1/orders/{order_id}/delivery/confirm', { params: orderPath(orderId), body })),
  uploadPhoto: (orderId: string, file: File, requestId: string = newRequestId()) =>
    call(
      client.POST('/api/v1/orders/{order_id}/delivery/photos', {
        params: orderPath(orderId),
        body: { file: '', request_id: requestId },
        bodySerializer: () => {
          const form = new FormData()
          form.append('file', file, file.name)
          form.append('request_id', requestId)
          return form
        },
      }),
    ),
  /** The photo's bytes (the route needs the Authorization header, so no <img src> straight to it). */
  photo: (orderId: string, photoId: string) =>
    call(
      client.GET('/api/v1/orders/{order_id}/delivery/photos/{photo_id}', {
        params: { path: { order_id: orderId, photo_id: photoId } },
        parseAs: 'blob',
      }),
    ) as Promise<Blob>,
})

export type DeliveriesApi = ReturnType<typeof deliveriesApi>
