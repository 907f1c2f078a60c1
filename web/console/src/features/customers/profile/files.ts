// Files as the attachment lists show them.

/** 12.3 KB / 4.5 MB (1024-based, as file managers on Windows count). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** What the gateway accepts, by the file's own type (it sniffs the content anyway). */
export const ACCEPTED_FILES = 'application/pdf,image/jpeg,image/png,image/webp,image/heic'
