import { describe, expect, it } from 'vitest'
import { usePhotoQueue } from './photoQueue'

interface Upload {
  file: File
  resolve: (value: { id: string }) => void
  reject: (error: unknown) => void
}

/** A queue whose uploads wait until the test settles them. */
function queue(max = 9) {
  const uploads: Upload[] = []
  const released: string[] = []
  const photos = usePhotoQueue({
    max,
    upload: (file) => new Promise<{ id: string }>((resolve, reject) => uploads.push({ file, resolve, reject })),
    preview: (file) => `blob:${file.name}`,
    release: (url) => released.push(url),
  })
  return { photos, uploads, released }
}

const photo = (name: string) => new File(['x'], name, { type: 'image/jpeg' })
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('the photos of a visit', () => {
  it('uploads two at a time, in the order taken, and names the uploaded ones in that order', async () => {
    const { photos, uploads } = queue()
    expect(photos.add([photo('a.jpg'), photo('b.jpg'), photo('c.jpg')])).toEqual({ added: 3, leftOut: 0 })
    expect(photos.photos.map((p) => p.status)).toEqual(['uploading', 'uploading', 'waiting'])
    expect(photos.pending.value).toBe(3)
    uploads[1]!.resolve({ id: 'att-b' })
    await settle()
    expect(uploads.map((u) => u.file.name)).toEqual(['a.jpg', 'b.jpg', 'c.jpg'])
    uploads[0]!.resolve({ id: 'att-a' })
    uploads[2]!.resolve({ id: 'att-c' })
    await settle()
    expect(photos.pending.value).toBe(0)
    expect(photos.attachmentIds.value).toEqual(['att-a', 'att-b', 'att-c'])
  })

  it('takes at most nine: the rest are left out and said so', () => {
    const { photos } = queue(9)
    photos.add(Array.from({ length: 7 }, (_, i) => photo(`${i}.jpg`)))
    expect(photos.add([photo('7.jpg'), photo('8.jpg'), photo('9.jpg')])).toEqual({ added: 2, leftOut: 1 })
    expect(photos.photos).toHaveLength(9)
    expect(photos.full.value).toBe(true)
  })

  it('keeps a failed upload with its error to retry, and leaves it out of the visit', async () => {
    const { photos, uploads } = queue()
    photos.add([photo('a.jpg')])
    uploads[0]!.reject(new Error('413'))
    await settle()
    expect(photos.photos[0]).toMatchObject({ status: 'failed', error: new Error('413') })
    expect(photos.failed.value).toBe(1)
    expect(photos.attachmentIds.value).toEqual([])
    photos.retry(photos.photos[0]!.key)
    expect(photos.photos[0]!.status).toBe('uploading')
    uploads[1]!.resolve({ id: 'att-a' })
    await settle()
    expect(photos.attachmentIds.value).toEqual(['att-a'])
    expect(photos.failed.value).toBe(0)
  })

  it('removes a photo before saving — even one still uploading — and lets go of its preview', async () => {
    const { photos, uploads, released } = queue()
    photos.add([photo('a.jpg'), photo('b.jpg'), photo('c.jpg')])
    const [a, b] = photos.photos
    photos.remove(a!.key)
    expect(released).toEqual(['blob:a.jpg'])
    // The third starts as soon as the removed one stops counting.
    expect(photos.photos.map((p) => [p.name, p.status])).toEqual([
      ['b.jpg', 'uploading'],
      ['c.jpg', 'uploading'],
    ])
    uploads[0]!.resolve({ id: 'att-a' }) // the removed one's answer changes nothing
    uploads[1]!.resolve({ id: 'att-b' })
    uploads[2]!.resolve({ id: 'att-c' })
    await settle()
    photos.remove(b!.key)
    expect(photos.attachmentIds.value).toEqual(['att-c'])
    photos.dispose()
    expect(released).toEqual(['blob:a.jpg', 'blob:b.jpg', 'blob:c.jpg'])
    expect(photos.photos).toHaveLength(0)
  })
})
