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
