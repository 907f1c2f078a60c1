// The customer calls answer with the generated types (no casts in between): this file fails
// `npm run typecheck` when one of them turns into a hand-written or untyped shape.
import { describe, expectTypeOf, it } from 'vitest'
import type { Contact, ContactList, Customer, CustomerPage, CustomerTypeList, CustomFieldList } from '../api/models'
import type { CustomersApi } from './api'

describe('customersApi', () => {
  it('answers with the generated types, not any', () => {
    expectTypeOf<Awaited<ReturnType<CustomersApi['list']>>>().toEqualTypeOf<CustomerPage>()
    expectTypeOf<Awaited<ReturnType<CustomersApi['get']>>>().toEqualTypeOf<Customer>()
    expectTypeOf<Awaited<ReturnType<CustomersApi['create']>>>().toEqualTypeOf<Customer>()
    expectTypeOf<Awaited<ReturnType<CustomersApi['update']>>>().toEqualTypeOf<Customer>()
    expectTypeOf<Awaited<ReturnType<CustomersApi['archive']>>>().toEqualTypeOf<Customer>()
    expectTypeOf<Awaited<ReturnType<CustomersApi['updateContact']>>>().toEqualTypeOf<Contact>()
    expectTypeOf<Awaited<ReturnType<CustomersApi['contacts']>>>().toEqualTypeOf<ContactList>()
    expectTypeOf<Awaited<ReturnType<CustomersApi['addContact']>>>().toEqualTypeOf<Contact>()
    expectTypeOf<Awaited<ReturnType<CustomersApi['types']>>>().toEqualTypeOf<CustomerTypeList>()
    expectTypeOf<Awaited<ReturnType<CustomersApi['customFields']>>>().toEqualTypeOf<CustomFieldList>()
  })
})
