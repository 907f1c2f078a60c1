// The console's own API calls answer with the generated types (no casts in between): this file
// fails `npm run typecheck` when one of them turns into a hand-written or untyped shape.
import type { CustomerSummary, CustomerTypeList, CustomFieldList, Me, OrgUnit, User } from '@keyuan/shared'
import { describe, expectTypeOf, it } from 'vitest'
import { auth } from './app'
import { adminApi } from './features/admin/api'
import { customerSummary } from './features/analytics/api'

type Answer<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>

describe('console API calls', () => {
  it('are typed by the OpenAPI document', () => {
    expectTypeOf<Answer<typeof adminApi.createOrgUnit>>().toEqualTypeOf<OrgUnit>()
    expectTypeOf<Answer<typeof adminApi.renameOrgUnit>>().toEqualTypeOf<OrgUnit>()
    expectTypeOf<Answer<typeof adminApi.createUser>>().toEqualTypeOf<User>()
    expectTypeOf<Answer<typeof adminApi.updateUser>>().toEqualTypeOf<User>()
    expectTypeOf<Answer<typeof adminApi.setCustomerTypes>>().toEqualTypeOf<CustomerTypeList>()
    expectTypeOf<Answer<typeof adminApi.setCustomFields>>().toEqualTypeOf<CustomFieldList>()
    expectTypeOf<Answer<typeof customerSummary>>().toEqualTypeOf<CustomerSummary>()
    expectTypeOf<Answer<typeof auth.loadMe>>().toEqualTypeOf<Me>()
  })
})
