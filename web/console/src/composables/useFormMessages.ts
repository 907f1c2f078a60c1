// A form's field messages: our own checks (i18n keys) and the API's refusals, one per field;
// refusals of fields the form has no input for are kept apart, to list above the form.
import { apiFieldErrors, placeFieldErrors, type FieldMessage } from '@keyuan/shared'
import { ref } from 'vue'
import { useI18n } from 'vue-i18n'

export interface FormFields {
  /** The API field names the form has inputs for; without it every refusal goes beside its name. */
  shown?: Iterable<string>
  /** Where a field the API reports under another name belongs (see placeFieldErrors). */
  aliases?: Record<string, string>
}

export function useFormMessages() {
  const { t } = useI18n()
  const messages = ref<Record<string, string>>({})
  /** "field: message" for each refusal no input of the form shows. */
  const elsewhere = ref<string[]>([])

  function fromChecks(found: Record<string, FieldMessage>, prefix = ''): void {
    for (const [field, message] of Object.entries(found)) {
      messages.value[`${prefix}${field}`] = t(message.key, message.values ?? {})
    }
  }

  /** Show the API's field errors; true when it named any field. */
  function fromApi(error: unknown, fields: FormFields = {}): boolean {
    const placed = placeFieldErrors(error, fields.shown ?? Object.keys(apiFieldErrors(error)), fields.aliases)
    Object.assign(messages.value, placed.beside)
    elsewhere.value = placed.elsewhere.map(({ field, message }) => t('form.fieldError', { field, message }))
    return Object.keys(placed.beside).length > 0 || placed.elsewhere.length > 0
  }

  function clear(): void {
    messages.value = {}
    elsewhere.value = []
  }

  const has = () => Object.keys(messages.value).length > 0

  return { messages, elsewhere, fromChecks, fromApi, clear, has }
}

