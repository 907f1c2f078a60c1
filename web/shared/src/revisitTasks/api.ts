// Revisit task calls both apps make (定期回访, issue 12): the due lists and completing one.
import { call, type ApiClient } from '../api/client'
import type { components, paths } from '../api/schema'

export type RevisitTask = components['schemas']['RevisitTaskOut']
export type RevisitTaskPage = components['schemas']['RevisitTaskPage']
export type RevisitCompletionInput = components['schemas']['RevisitCompletionIn']
export type RevisitKind = RevisitCompletionInput['kind']
export type RevisitQuery = NonNullable<paths['/api/v1/revisit-tasks']['get']['parameters']['query']>
export type RevisitDue = NonNullable<RevisitQuery['due']>

/** The lists a rep works through, in the order the screens show them. */
export const REVISIT_DUES: readonly RevisitDue[] = ['today', 'overdue', 'this_week']

export const revisitTasksApi = (client: ApiClient) => ({
  /** `mine`: a supervisor's own tasks only (without it, their subtree's). */
  list: (due: RevisitDue, options: { mine?: boolean; pageToken?: string; pageSize?: number } = {}) =>
    call(
      client.GET('/api/v1/revisit-tasks', {
        params: {
          query: { due, mine: options.mine ?? false, page_size: options.pageSize ?? 50, page_token: options.pageToken ?? '' },
        },
      }),
    ),
  complete: (taskId: string, body: RevisitCompletionInput) =>
    call(client.POST('/api/v1/revisit-tasks/{task_id}/complete', { params: { path: { task_id: taskId } }, body })),
})

export type RevisitTasksApi = ReturnType<typeof revisitTasksApi>
