// The tenant's org units and users as the caller may see them, loaded once per sign-in, for
// names (customers carry ids), filters and owner choices.
import { call, type OrgUnit, type User } from '@keyuan/shared'
import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { api } from '../../app'

export const useDirectoryStore = defineStore('directory', () => {
  const units = shallowRef<OrgUnit[]>([])
  const users = shallowRef<User[]>([])
  const loaded = ref(false)
  let pending: Promise<void> | null = null

  async function fetchAll(): Promise<void> {
    const [unitList, userList] = await Promise.all([
      call(api.GET('/api/v1/org-units')),
      call(api.GET('/api/v1/users')),
    ])
    units.value = unitList.items
    users.value = userList.items
    loaded.value = true
  }

  /** Load unless loaded; concurrent callers share one load. */
  function load(force = false): Promise<void> {
    if (loaded.value && !force) return Promise.resolve()
    if (!pending) pending = fetchAll().finally(() => (pending = null))
    return pending
  }

  const unitName = computed(() => {
    const names = new Map(units.value.map((u) => [u.id, u.name]))
    return (id: string) => names.get(id) ?? ''
  })
  const userName = computed(() => {
    const names = new Map(users.value.map((u) => [u.id, u.display_name]))
    return (id: string) => names.get(id) ?? ''
  })
  /** Users who may own customers (service and finance only read them). */
  const owners = computed(() => users.value.filter((u) => u.active && ['admin', 'boss', 'supervisor', 'sales'].includes(u.role)))

  function $reset(): void {
    units.value = []
    users.value = []
    loaded.value = false
  }

  return { units, users, loaded, load, unitName, userName, owners, $reset }
})
