// Customer calls both apps make; paths, parameters, bodies and answers typed by the OpenAPI document.
import { call, type ApiClient } from '../api/client'
import type { ContactInput, ContactPatch, CustomerInput, CustomerPatch, CustomerQuery } from '../api/models'

export type { CustomerQuery }

export function newRequestId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(16).slice(2)}`
}

export const customersApi = (client: ApiClient) => ({
  list: (query: CustomerQuery) => call(client.GET('/api/v1/customers', { params: { query } })),
  get: (id: string) => call(client.GET('/api/v1/customers/{customer_id}', { params: { path: { customer_id: id } } })),
  create: (body: CustomerInput) => call(client.POST('/api/v1/customers', { body })),
  update: (id: string, body: CustomerPatch) =>
    call(client.PATCH('/api/v1/customers/{customer_id}', { params: { path: { customer_id: id } }, body })),
  archive: (id: string) => call(client.DELETE('/api/v1/customers/{customer_id}', { params: { path: { customer_id: id } } })),
  contacts: (id: string) =>
    call(client.GET('/api/v1/customers/{customer_id}/contacts', { params: { path: { customer_id: id } } })),
  addContact: (id: string, body: ContactInput) =>
    call(client.POST('/api/v1/customers/{customer_id}/contacts', { params: { path: { customer_id: id } }, body })),
  updateContact: (id: string, contactId: string, body: ContactPatch) =>
    call(
      client.PATCH('/api/v1/customers/{customer_id}/contacts/{contact_id}', {
        params: { path: { customer_id: id, contact_id: contactId } },
        body,
      }),
    ),
  removeContact: async (id: string, contactId: string): Promise<void> => {
    await call(
      client.DELETE('/api/v1/customers/{customer_id}/contacts/{contact_id}', {
        params: { path: { customer_id: id, contact_id: contactId } },
      }),
    )
  },
  types: () => call(client.GET('/api/v1/customer-types')),
  customFields: () => call(client.GET('/api/v1/custom-fields')),
})

export type CustomersApi = ReturnType<typeof customersApi>
