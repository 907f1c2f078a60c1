// vue-i18n set up the same way for both apps: zh-CN by default, en complete, the choice kept.
import { createI18n } from 'vue-i18n'
import en from './en'
import zhCN, { type MessageSchema } from './zh-CN'

export type Language = 'zh-CN' | 'en'
export const LANGUAGES: readonly Language[] = ['zh-CN', 'en']
export const DEFAULT_LANGUAGE: Language = 'zh-CN'
const STORAGE_KEY = 'keyuan.language'

export const messages: Record<Language, MessageSchema> = { 'zh-CN': zhCN, en }
export type { MessageSchema }

function isLanguage(value: unknown): value is Language {
  return LANGUAGES.includes(value as Language)
}

/** The language chosen before on this device, else zh-CN (the users are Chinese companies). */
export function storedLanguage(): Language {
  try {
    const saved = globalThis.localStorage?.getItem(STORAGE_KEY)
    return isLanguage(saved) ? saved : DEFAULT_LANGUAGE
  } catch {
    return DEFAULT_LANGUAGE
  }
}

export function createAppI18n(language: Language = storedLanguage()) {
  const i18n = createI18n<[MessageSchema], Language, false>({
    legacy: false,
    locale: language,
    fallbackLocale: DEFAULT_LANGUAGE,
    messages,
  })
  applyDocumentLanguage(language)
  return i18n
}

export type AppI18n = ReturnType<typeof createAppI18n>

function applyDocumentLanguage(language: Language): void {
  if (typeof document !== 'undefined') document.documentElement.lang = language
}

/** Switch the UI language, remember it, and tell the document (screen readers, fonts). */
export function setLanguage(i18n: AppI18n, language: Language): void {
  i18n.global.locale.value = language
  applyDocumentLanguage(language)
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, language)
  } catch {
    // storage may be disabled (private mode): the choice then lasts for this page only
  }
}

// Issue 12's messages (profile settings, revisits, licences, 回访率, the H5 check-in) are not in
// the entry: each app loads them with the first signed-in page (its router waits for them), so
// the login route does not carry them. profile.en.ts is held to profile.zh-CN.ts's keys.
type ProfileMessages = typeof import('./profile.zh-CN').default

/** Add the profile messages to `i18n` (tests call it with the modules imported statically). */
export function mergeProfileMessages(i18n: AppI18n, zhCN: ProfileMessages, en: ProfileMessages): void {
  // The entry's schema does not name these sections; vue-i18n merges any tree.
  i18n.global.mergeLocaleMessage('zh-CN', zhCN as never)
  i18n.global.mergeLocaleMessage('en', en as never)
}

const profileLoads = new WeakMap<AppI18n, Promise<void>>()

/** Load the profile messages once per i18n instance. */
export function loadProfileMessages(i18n: AppI18n): Promise<void> {
  let pending = profileLoads.get(i18n)
  if (!pending) {
    pending = Promise.all([import('./profile.zh-CN'), import('./profile.en')]).then(([zhCN, en]) =>
      mergeProfileMessages(i18n, zhCN.default, en.default as ProfileMessages),
    )
    // A failed load (the network) may be tried again by the next navigation.
    pending.catch(() => profileLoads.delete(i18n))
    profileLoads.set(i18n, pending)
  }
  return pending
}
