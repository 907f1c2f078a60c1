// Customer calls both apps make, typed by the OpenAPI document; answers typed by models.ts.
import { call, type ApiClient } from '../api/client'
import type {
  Contact,
  ContactInput,
  ContactPatch,
  Customer,
  CustomerInput,
  CustomerPage,
  CustomerPatch,
  CustomFieldDefinition,
  Items,
} from '../api/models'
import type { paths } from '../api/schema'

export type CustomerQuery = NonNullable<paths['/api/v1/customers']['get']['parameters']['query']>

export function newRequestId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(16).slice(2)}`
}

export const customersApi = (client: ApiClient) => ({
  list: async (query: CustomerQuery) =>
    (await call(client.GET('/api/v1/customers', { params: { query } }))) as unknown as CustomerPage,
  get: async (id: string) =>
    (await call(
      client.GET('/api/v1/customers/{customer_id}', { params: { path: { customer_id: id } } }),
    )) as unknown as Customer,
  create: async (body: CustomerInput) =>
    (await call(client.POST('/api/v1/customers', { body }))) as unknown as Customer,
  update: async (id: string, body: CustomerPatch) =>
    (await call(
      client.PATCH('/api/v1/customers/{customer_id}', { params: { path: { customer_id: id } }, body }),
    )) as unknown as Customer,
  archive: async (id: string) =>
    (await call(
      client.DELETE('/api/v1/customers/{customer_id}', { params: { path: { customer_id: id } } }),
    )) as unknown as Customer,
  contacts: async (id: string) =>
    (await call(
      client.GET('/api/v1/customers/{customer_id}/contacts', { params: { path: { customer_id: id } } }),
    )) as unknown as Items<Contact>,
  addContact: async (id: string, body: ContactInput) =>
    (await call(
      client.POST('/api/v1/customers/{customer_id}/contacts', { params: { path: { customer_id: id } }, body }),
    )) as unknown as Contact,
  updateContact: async (id: string, contactId: string, body: ContactPatch) =>
    (await call(
      client.PATCH('/api/v1/customers/{customer_id}/contacts/{contact_id}', {
        params: { path: { customer_id: id, contact_id: contactId } },
        body,
      }),
    )) as unknown as Contact,
  removeContact: async (id: string, contactId: string) => {
    await call(
      client.DELETE('/api/v1/customers/{customer_id}/contacts/{contact_id}', {
        params: { path: { customer_id: id, contact_id: contactId } },
      }),
    )
  },
  types: async () => (await call(client.GET('/api/v1/customer-types'))) as unknown as Items<string>,
  customFields: async () =>
    (await call(client.GET('/api/v1/custom-fields'))) as unknown as Items<CustomFieldDefinition>,
})

export type CustomersApi = ReturnType<typeof customersApi>
