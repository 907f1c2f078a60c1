// The transfer wizard's draft, checked as the API checks it, and the body it sends; and the
// polling of a running transfer until it ends.
import { ApiError, type HandoverInput, type LifecycleStage, type Transfer, type TransferInput, type TransferMode } from '@keyuan/shared'
import { onBeforeUnmount, ref, shallowRef } from 'vue'

export interface TransferDraft {
  from_user_id: string
  lifecycle_stage: LifecycleStage | ''
  type: string
  province: string
  city: string
  tag: string
  mode: TransferMode
  to_user_ids: string[]
  pool_id: string
  reason: string
}

export const transferDraft = (fromUserId = ''): TransferDraft => ({
  from_user_id: fromUserId,
  lifecycle_stage: '',
  type: '',
  province: '',
  city: '',
  tag: '',
  mode: 'evenly',
  to_user_ids: [],
  pool_id: '',
  reason: '',
})

/** The API's field names the wizard has inputs for (its refusals go beside them). */
export const TRANSFER_FIELDS = ['from_user_id', 'mode', 'to_user_ids', 'pool_id', 'reason', 'filter.lifecycle_stage', 'filter.type', 'filter.province', 'filter.city', 'filter.tag']

export const needsReceivers = (mode: TransferMode) => mode === 'one_user' || mode === 'evenly'

type Found = Record<string, { key: string }>

/** Step 1: whose customers. */
export function checkWho(draft: TransferDraft): Found {
  return draft.from_user_id ? {} : { from_user_id: { key: 'transfers.fromRequired' } }
}

/** Step 2: how, to whom, why. */
export function checkHow(draft: TransferDraft): Found {
  const found: Found = {}
  if (needsReceivers(draft.mode)) {
    if (!draft.to_user_ids.length) found.to_user_ids = { key: 'transfers.receiversRequired' }
    else if (draft.mode === 'one_user' && draft.to_user_ids.length > 1) found.to_user_ids = { key: 'transfers.oneReceiver' }
    else if (draft.to_user_ids.includes(draft.from_user_id)) found.to_user_ids = { key: 'transfers.notSelf' }
  }
  if (!draft.reason.trim()) found.reason = { key: 'transfers.reasonRequired' }
  return found
}

/** The handover part: what the deactivate call takes as well. */
export function handoverBody(draft: TransferDraft): Required<HandoverInput> {
  return {
    mode: draft.mode,
    to_user_ids: needsReceivers(draft.mode) ? draft.to_user_ids : [],
    pool_id: draft.mode === 'pool' && draft.pool_id ? draft.pool_id : null,
    reason: draft.reason.trim(),
  }
}

export function transferBody(draft: TransferDraft): Omit<TransferInput, 'request_id'> {
  const filter = {
    lifecycle_stage: draft.lifecycle_stage || null,
    type: draft.type.trim() || null,
    province: draft.province.trim() || null,
    city: draft.city.trim() || null,
    tag: draft.tag.trim() || null,
  }
  return { from_user_id: draft.from_user_id, filter, ...handoverBody(draft) }
}

export const isFinished = (transfer: Transfer) => transfer.status === 'completed' || transfer.status === 'failed'

/** A transfer as it goes: fetched now and every `intervalMs` until it is completed or failed,
 * and no longer once the page is gone. */
export function useTransferProgress(fetchTransfer: () => Promise<Transfer>, intervalMs = 2000) {
  const transfer = shallowRef<Transfer | null>(null)
  const failure = ref<unknown>(null)
  let timer: ReturnType<typeof setTimeout> | null = null
  let stopped = false

  async function poll(): Promise<void> {
    timer = null
    try {
      transfer.value = await fetchTransfer()
      failure.value = null
    } catch (error) {
      failure.value = error
    }
    if (stopped || (transfer.value && isFinished(transfer.value))) return
    timer = setTimeout(() => void poll(), intervalMs)
  }

  function stop(): void {
    stopped = true
    if (timer !== null) clearTimeout(timer)
    timer = null
  }

  onBeforeUnmount(stop)
  return { transfer, failure, poll, stop }
}

/** Where 停用 goes when the API answers 412 handover_required: the wizard's handover step for
 * that user, with how many customers they hold; null for any other answer. */
export function handoverRoute(error: unknown, userId: string) {
  if (!(error instanceof ApiError) || error.code !== 'handover_required') return null
  return { name: 'transfer-new', query: { deactivate: userId, held: String(error.held ?? '') } }
}
