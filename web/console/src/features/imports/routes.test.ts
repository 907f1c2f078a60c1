import type { Notification } from '@keyuan/shared'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { auth } from '../../app'
import { router } from '../../router'
import { notificationRoute } from '../notifications/links'

describe('the import wizard’s addresses', () => {
  afterEach(() => vi.restoreAllMocks())

  it('are for those who may import: service staff typing one land on the workbench', async () => {
    vi.spyOn(auth, 'ensureSignedIn').mockResolvedValue(true)
    auth.me.value = { id: 'u1', role: 'service', display_name: '刘洋' } as never
    await router.push('/customers/import')
    expect(router.currentRoute.value.name).toBe('workbench')
    auth.me.value = { id: 'u2', role: 'sales', display_name: '张伟' } as never
    await router.push('/customers/import')
    expect(router.currentRoute.value.name).toBe('customer-import-new')
    await router.push('/customers/import/0b7c4a52-8a43-4c2e-9d1e-2f1d6c1e9a10')
    expect(router.currentRoute.value.name).toBe('customer-import')
    expect(router.currentRoute.value.params.id).toBe('0b7c4a52-8a43-4c2e-9d1e-2f1d6c1e9a10')
    // The first visits compile the lazily loaded pages (the layout, the workbench, the wizard).
  }, 60_000)

  it('are where an import’s notification leads', () => {
    const notice = { kind: 'import_checked', link_type: 'customer_import', link_id: 'i7' } as Notification
    expect(notificationRoute(notice, 'sales')).toEqual({ name: 'customer-import', params: { id: 'i7' } })
  })
})
