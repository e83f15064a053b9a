import {
  DEFAULTS,
  FIELDS,
  FIELD_GROUPS,
  SECRET_FIELDS,
  SECRET_KEYS,
  SETTING_KEYS,
  UNITS,
  applies,
  boundsText,
  choiceLabel,
  defaultPort,
  fieldInfo,
  isRequired,
  isSecretKey,
  keyOfApi,
  loginSecret,
  type AuthType,
  type ConnectorRecord,
  type ConnectorSpecInput,
  type FieldGroup,
  type FieldInfo,
  type Protocol,
  type SecretKey,
  type SettingKey,
} from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import type { Violation } from '@postbote/errors';
import { html, type Html } from './html';
import { number, type Viewer } from './i18n';

type Key = SettingKey | SecretKey;

/**
 * The form's sections and their fields, from the catalogue: each field's `group`, in the
 * catalogue's order, a secret right after the setting it belongs to (`after`). A new
 * setting appears in the form by its catalogue entry alone; labels, help, kinds, choices
 * and which protocol or login a field applies to all come from there too.
 */
export const FORM_GROUPS: ReadonlyArray<{ readonly group: FieldGroup; readonly keys: readonly Key[] }> = (Object.keys(FIELD_GROUPS) as FieldGroup[]).map((group) => ({
  group,
  keys: [
    ...SETTING_KEYS.filter((k) => FIELDS[k].group === group).flatMap((k) => [k, ...SECRET_KEYS.filter((s) => fieldInfo(s).after === k)]),
    ...SECRET_KEYS.filter((s) => fieldInfo(s).group === group && fieldInfo(s).after === undefined),
  ],
}));


/** What the browser posted: field name (the API's) → value. */
export type FormBody = Readonly<Record<string, string | undefined>>;

/**
 * The form's values as unchecked connector input, by the catalogue: numbers from digits
 * (anything else becomes NaN, which the validator names at its field), checkboxes present
 * or not, an empty secret means "keep". Only fields that apply to the chosen protocol,
 * login and proxy are taken. `creating`: an empty number or choice means "the default".
 */
export function specFromForm(body: FormBody, protocol: Protocol, creating: boolean): ConnectorSpecInput {
  const authType = body['auth_type'] || (creating ? DEFAULTS.authType : undefined);
  const proxyUrl = (body['proxy_url'] ?? '').trim();
  const out: Record<string, unknown> = { protocol };
  for (const key of SETTING_KEYS) {
    if (key === 'protocol' || !applies(key, protocol, authType ?? 'PASSWORD', proxyUrl)) continue;
    const f: FieldInfo = FIELDS[key];
    const raw = body[f.api];
    if (f.kind === 'bool') out[key] = raw === 'on' || raw === 'true';
    else if (raw === undefined) continue;
    else if (f.kind === 'int') {
      const t = raw.trim();
      if (t !== '') out[key] = /^\d{1,10}$/.test(t) ? Number(t) : Number.NaN;
    } else if (f.kind === 'enum') {
      if (raw !== '') out[key] = raw;
    } else if (f.kind === 'pem') {
      const t = raw.replace(/\r\n/g, '\n').trim();
      if (t !== '' || !creating) out[key] = t;
    } else {
      const t = raw.trim();
      if (t !== '' || !creating) out[key] = t;
    }
  }
  for (const key of SECRET_KEYS) {
    if (!applies(key, protocol, authType ?? 'PASSWORD', proxyUrl)) continue;
    const raw = body[SECRET_FIELDS[key].api];
    if (raw) out[key] = new Secret(raw);
  }
  return out as ConnectorSpecInput;
}

/** The message of a violation in the viewer's language: known rules worded here, others the service's words with field names as labels. */
function wordedViolation(v: Viewer, x: Violation, key: Key | undefined): string {
  const { t } = v;
  const f = key ? fieldInfo(key) : undefined;
  switch (x.rule) {
    case 'required':
      return t.rules.required;
    case 'range':
      return f?.min !== undefined && f.max !== undefined ? t.rules.range(number(v, f.min), number(v, f.max)) : x.message;
    case 'max-length':
      return f?.maxLength !== undefined ? t.rules.maxLength(number(v, f.maxLength)) : x.message;
    case 'enum':
      return f?.values ? t.rules.enum(f.values.map((value) => choiceLabel(f, value, v.locale)).join(', ')) : x.message;
    case 'no-control':
      return t.rules.control;
    case 'visible':
      return t.rules.deceptive;
    case 'unique':
      return t.rules.unique;
    case 'imap-only':
      return t.rules.imapOnly;
    case 'required-for-move':
      return t.rules.moveRequired;
    case 'password-required':
      return t.rules.passwordRequired(labelsIn(v, x.message.split(' decides ')[0] ?? ''));
    default:
      return labelsIn(v, x.message);
  }
}

/** `spec.port, spec.security` → “Port, Security”: a person reads the field's label, never the API's path. */
function labelsIn(v: Viewer, text: string): string {
  const [open, close] = v.locale === 'de' ? ['„', '“'] : ['“', '”'];
  return text.replace(/^changing /, '').replace(/\bspec\.([a-z_]+)/g, (whole, api: string) => {
    const key = keyOfApi(api);
    return key ? `${open}${fieldInfo(key).label[v.locale]}${close}` : whole;
  });
}

/** Violations by form field (`spec.port` → `port`), worded for the viewer; a violation of no field stays under ''. */
export function errorsByField(v: Viewer, violations: readonly Violation[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const x of violations) {
    const api = x.field.replace(/^spec\./, '');
    const key = keyOfApi(api);
    const at = key ? api : '';
    const message = wordedViolation(v, x, key);
    out.set(at, [...(out.get(at) ?? []), key ? message : labelsIn(v, `${x.field}: ${message}`)]);
  }
  return out;
}

/** Violations as lines a person reads apart from the form: “Port: must be …”. */
export function violationLines(v: Viewer, violations: readonly Violation[]): string[] {
  return violations.map((x) => {
    const key = keyOfApi(x.field.replace(/^spec\./, ''));
    return key ? `${fieldInfo(key).label[v.locale]}: ${wordedViolation(v, x, key)}` : labelsIn(v, `${x.field}: ${x.message}`);
  });
}

export interface FormState {
  readonly protocol: Protocol;
  /** The stored connector when editing. */
  readonly current: ConnectorRecord | null;
  /** What the person typed (re-shown after an error; never secrets). */
  readonly body: FormBody | null;
  readonly errors: Map<string, string[]>;
}

function valueOf(key: SettingKey, s: FormState): string {
  const f: FieldInfo = FIELDS[key];
  if (s.body) return s.body[f.api] ?? '';
  const v = s.current ? s.current[key] : (DEFAULTS as Record<string, unknown>)[key];
  return v === null || v === undefined ? '' : String(v);
}

function checked(key: SettingKey, s: FormState): boolean {
  const f: FieldInfo = FIELDS[key];
  if (s.body) return s.body[f.api] === 'on';
  const v = s.current ? s.current[key] : (DEFAULTS as Record<string, unknown>)[key];
  return v === true;
}

function control(v: Viewer, key: Key, s: FormState, id: string, aria: Html): Html {
  const f = fieldInfo(key);
  if (isSecretKey(key)) {
    const stored = s.current?.secretsSet.includes(key) ?? false;
    return html`<input type="password" id="${id}" name="${f.api}" autocomplete="new-password" ${aria} placeholder="${stored ? v.t.common.setKeep : ''}">`;
  }
  if (key === 'protocol') return html`<input type="text" id="${id}" value="${s.protocol}" readonly ${aria}><input type="hidden" name="protocol" value="${s.protocol}">`;
  if (f.kind === 'bool') return html`<input type="checkbox" id="${id}" name="${f.api}" ${checked(key, s) ? 'checked' : ''} ${aria}>`;
  const value = valueOf(key, s);
  if (f.kind === 'enum') {
    const optional = f.default === undefined;
    return html`<select id="${id}" name="${f.api}" ${aria}>${optional ? html`<option value="">—</option>` : ''}${(f.values ?? []).map(
      (x) => html`<option value="${x}" ${x === value ? 'selected' : ''}>${choiceLabel(f, x, v.locale)}</option>`,
    )}</select>`;
  }
  if (f.kind === 'pem') {
    // A file is read into the box by the script (nothing is uploaded apart from the form).
    return html`<textarea id="${id}" name="${f.api}" ${aria} spellcheck="false">${value}</textarea><label class="file">${v.t.form.caFile} <input type="file" accept=".pem,.crt,.cer,text/plain" data-pem-for="${id}"></label>`;
  }
  const unit = f.unit ? html`<span class="unit">${UNITS[f.unit][v.locale]}</span>` : '';
  if (f.kind === 'int') return html`<input type="text" inputmode="numeric" id="${id}" name="${f.api}" value="${value}" ${aria}>${unit}`;
  return html`<input type="text" id="${id}" name="${f.api}" value="${value}" ${aria} autocomplete="off">`;
}

function hint(v: Viewer, key: Key, protocol: Protocol): string {
  const f = fieldInfo(key);
  // The port's default depends on the protocol: say this form's, not both protocols'.
  if (key === 'port') return `${v.t.form.portHint(defaultPort(protocol, 'SSL'), defaultPort(protocol, 'TLS'))} (${number(v, f.min ?? 1)}–${number(v, f.max ?? 65_535)}).`;
  const bounds = boundsText(key, v.locale);
  const text = `${f.help[v.locale]}${bounds ? ` (${bounds})` : ''}.`;
  // The German labels are the original product's names; English readers get them as a pointer.
  return v.locale === 'en' ? `${text} ${v.t.common.originalName(f.label.de)}` : text;
}

/** Whether the person must fill the field in before saving (marked, and announced). */
function required(key: Key, s: FormState): boolean {
  if (key === 'protocol' || !isRequired(key)) return false;
  return isSecretKey(key) ? s.current === null && key === loginSecret((s.body?.['auth_type'] || DEFAULTS.authType) as AuthType) : true;
}

/** One labelled field with its help and its errors, announced to screen readers. */
function field(v: Viewer, key: Key, s: FormState, folderAction: string | null): Html {
  const f = fieldInfo(key);
  const id = `f-${f.api}`;
  const errors = [...(s.errors.get(f.api) ?? [])];
  // A typed secret is never sent back: after a refused submit, say so at the field instead of letting the next submit find out.
  if (isSecretKey(key) && s.body?.[f.api] && s.errors.size > 0) errors.push(v.t.form.passwordAgain);
  const must = required(key, s);
  const aria = html`aria-describedby="${id}-hint${errors.length ? ` ${id}-error` : ''}" ${errors.length ? html`aria-invalid="true"` : ''} ${must ? html`aria-required="true"` : ''}`;
  const auth = f.auth ? html` data-auth="${f.auth.join(' ')}"` : '';
  // Shown by the script, which fills a list from the server's answer (no use without it).
  const picker =
    folderAction && (key === 'folder' || key === 'moveTo')
      ? html`<button type="submit" class="secondary" hidden data-action="folders" data-target="${f.api}" formaction="${folderAction}" aria-controls="${id}-pick">${v.t.form.chooseFolder}</button><span id="${id}-pick" aria-live="polite"></span>`
      : '';
  const warning =
    key === 'security'
      ? html`<span class="hint notice warn" id="security-none-warning" role="note" ${valueOf('security', s) === 'NONE' ? '' : 'hidden'}>${v.t.form.noneWarning}</span>`
      : '';
  return html`<div class="field" data-field="${f.api}"${auth}>
  <span class="label"><label for="${id}">${f.label[v.locale]}</label>${must ? html`<span class="req" title="${v.t.common.required}" aria-hidden="true">*</span>` : ''}</span>
  <div>${control(v, key, s, id, aria)} ${picker}</div>
  <span class="hint" id="${id}-hint">${hint(v, key, s.protocol)}</span>
  ${warning}
  ${errors.length ? html`<span class="error" id="${id}-error">${errors.join('; ')}</span>` : ''}
</div>`;
}

/** The whole settings form for one protocol: every field that can apply, grouped. */
export function connectorFields(v: Viewer, s: FormState, folderAction: string | null): Html {
  const general = s.errors.get('') ?? [];
  return html`${general.length ? html`<div class="notice bad" role="alert">${general.map((m) => html`<p>${m}</p>`)}</div>` : ''}
${FORM_GROUPS.map(
  (g) => html`<fieldset><legend>${FIELD_GROUPS[g.group][v.locale]}</legend>${g.keys
    .filter((k) => {
      const f = fieldInfo(k);
      return !f.protocols || f.protocols.includes(s.protocol);
    })
    .map((k) => field(v, k, s, folderAction))}</fieldset>`,
)}`;
}
