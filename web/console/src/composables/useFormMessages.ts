// A form's field messages: our own checks (i18n keys) and the API's refusals, one per field.
import { apiFieldErrors, type FieldMessage } from '@keyuan/shared'
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'

export function useFormMessages() {
  const { t } = useI18n()
  const messages = ref<Record<string, string>>({})

  function fromChecks(found: Record<string, FieldMessage>, prefix = ''): void {
    for (const [field, message] of Object.entries(found)) {
      messages.value[`${prefix}${field}`] = t(message.key, message.values ?? {})
    }
  }

  /** Show the API's field errors; true when it named any field. */
  function fromApi(error: unknown): boolean {
    const found = apiFieldErrors(error)
    Object.assign(messages.value, found)
    return Object.keys(found).length > 0
  }

  function clear(): void {
    messages.value = {}
  }

  const has = () => Object.keys(messages.value).length > 0

  return { messages, fromChecks, fromApi, clear, has }
}
