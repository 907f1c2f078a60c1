// 拍照记录: the photos of a visit, each uploaded as soon as it is taken (at most two at a time,
// a phone's uplink is thin), shown by a local preview meanwhile; a failed one can be retried,
// any can be removed before the visit is saved, which then names the uploaded ones in order.
import { computed, reactive } from 'vue'

export type PhotoStatus = 'waiting' | 'uploading' | 'done' | 'failed'

export interface QueuedPhoto<A> {
  key: number
  name: string
  /** A local object URL while no server thumbnail is known. */
  preview: string
  status: PhotoStatus
  attachment: A | null
  error: unknown
}

export interface PhotoQueueOptions<A> {
  upload: (file: File) => Promise<A>
  /** How many photos a visit may carry (FollowUpIn.photo_attachment_ids). */
  max: number
  concurrency?: number
  preview?: (file: File) => string
  release?: (url: string) => void
}

export interface AddResult {
  added: number
  /** Files left out because the visit would carry more than `max`. */
  leftOut: number
}

export function usePhotoQueue<A extends { id: string }>(options: PhotoQueueOptions<A>) {
  const concurrency = options.concurrency ?? 2
  const preview = options.preview ?? ((file: File) => URL.createObjectURL(file))
  const release = options.release ?? ((url: string) => URL.revokeObjectURL(url))
  // Attachments are plain answers: no refs inside to unwrap.
  const photos = reactive([]) as QueuedPhoto<A>[]
  const files = new Map<number, File>()
  let nextKey = 0

  const find = (key: number) => photos.find((photo) => photo.key === key)
  const uploading = () => photos.filter((photo) => photo.status === 'uploading').length

  async function send(photo: QueuedPhoto<A>): Promise<void> {
    const file = files.get(photo.key)
    if (!file) return
    photo.status = 'uploading'
    photo.error = null
    try {
      const attachment = await options.upload(file)
      const still = find(photo.key)
      if (!still) return // removed while it uploaded
      still.attachment = attachment
      still.status = 'done'
    } catch (error) {
      const still = find(photo.key)
      if (!still) return
      still.status = 'failed'
      still.error = error
    } finally {
      pump()
    }
  }

  function pump(): void {
    for (const photo of photos) {
      if (uploading() >= concurrency) return
      if (photo.status === 'waiting') void send(photo)
    }
  }

  /** Queue the files taken (in order) and start uploading; those past `max` are left out. */
  function add(taken: Iterable<File>): AddResult {
    const list = [...taken]
    const room = Math.max(options.max - photos.length, 0)
    for (const file of list.slice(0, room)) {
      nextKey += 1
      files.set(nextKey, file)
      photos.push({ key: nextKey, name: file.name, preview: preview(file), status: 'waiting', attachment: null, error: null })
    }
    pump()
    return { added: Math.min(list.length, room), leftOut: Math.max(list.length - room, 0) }
  }

  function remove(key: number): void {
    const index = photos.findIndex((photo) => photo.key === key)
    if (index < 0) return
    release(photos[index]!.preview)
    files.delete(key)
    photos.splice(index, 1)
    pump()
  }

  function retry(key: number): void {
    const photo = find(key)
    if (photo?.status !== 'failed') return
    photo.status = 'waiting'
    pump()
  }

  /** Let go of every preview (the page is left). */
  function dispose(): void {
    for (const photo of photos) release(photo.preview)
    photos.splice(0, photos.length)
    files.clear()
  }

  const pending = computed(() => photos.filter((p) => p.status === 'waiting' || p.status === 'uploading').length)
  const failed = computed(() => photos.filter((p) => p.status === 'failed').length)
  const full = computed(() => photos.length >= options.max)
  /** The uploaded photos' attachment ids, in the order they were taken. */
  const attachmentIds = computed(() => photos.flatMap((p) => (p.status === 'done' && p.attachment ? [p.attachment.id] : [])))

  return { photos, add, remove, retry, dispose, pending, failed, full, attachmentIds }
}

export type PhotoQueue<A extends { id: string }> = ReturnType<typeof usePhotoQueue<A>>
