import {
  DEFAULTS,
  FIELDS,
  FIELD_GROUPS,
  SECRET_FIELDS,
  SECRET_KEYS,
  SETTING_KEYS,
  applies,
  boundsText,
  choiceLabel,
  fieldInfo,
  isSecretKey,
  keyOfApi,
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

const info = fieldInfo;
const isSecret = isSecretKey;

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

/** Violations by form field (`spec.port` → `port`); a violation of no field stays under ''. */
export function errorsByField(violations: readonly Violation[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const v of violations) {
    const field = v.field.replace(/^spec\./, '');
    const known = keyOfApi(field) ? field : '';
    out.set(known, [...(out.get(known) ?? []), known ? v.message : `${v.field}: ${v.message}`]);
  }
  return out;
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

function control(key: Key, s: FormState, id: string, describedBy: string, invalid: boolean): Html {
  const f = info(key);
  const aria = html`aria-describedby="${describedBy}" ${invalid ? html`aria-invalid="true"` : ''}`;
  if (isSecret(key)) {
    const stored = s.current?.secretsSet.includes(key) ?? false;
    return html`<input type="password" id="${id}" name="${f.api}" autocomplete="new-password" ${aria} placeholder="${stored ? 'set — leave empty to keep' : ''}">`;
  }
  if (key === 'protocol') return html`<input type="text" id="${id}" value="${s.protocol}" readonly ${aria}><input type="hidden" name="protocol" value="${s.protocol}">`;
  if (f.kind === 'bool') return html`<input type="checkbox" id="${id}" name="${f.api}" ${checked(key, s) ? 'checked' : ''} ${aria}>`;
  const value = valueOf(key, s);
  if (f.kind === 'enum') {
    const optional = f.default === undefined;
    return html`<select id="${id}" name="${f.api}" ${aria}>${optional ? html`<option value="">—</option>` : ''}${(f.values ?? []).map(
      (v) => html`<option value="${v}" ${v === value ? 'selected' : ''}>${choiceLabel(f, v, 'en')}</option>`,
    )}</select>`;
  }
  if (f.kind === 'pem') return html`<textarea id="${id}" name="${f.api}" ${aria} spellcheck="false">${value}</textarea>`;
  if (f.kind === 'int') return html`<input type="text" inputmode="numeric" id="${id}" name="${f.api}" value="${value}" ${aria}>`;
  return html`<input type="text" id="${id}" name="${f.api}" value="${value}" ${aria} autocomplete="off">`;
}

function hint(key: Key): string {
  const f = info(key);
  const bounds = boundsText(key, 'en');
  return `${f.help.en}${bounds ? ` (${bounds})` : ''}. Original name: ${f.label.de}.`;
}

/** One labelled field with its help and its errors, announced to screen readers. */
function field(key: Key, s: FormState, folderAction: string | null): Html {
  const f = info(key);
  const id = `f-${f.api}`;
  const errors = s.errors.get(f.api) ?? [];
  const auth = f.auth ? html` data-auth="${f.auth.join(' ')}"` : '';
  // Shown by the script, which fills a list from the server's answer (no use without it).
  const picker =
    folderAction && (key === 'folder' || key === 'moveTo')
      ? html`<button type="submit" class="secondary" hidden data-action="folders" data-target="${f.api}" formaction="${folderAction}" aria-controls="${id}-pick">Choose from server</button><span id="${id}-pick" aria-live="polite"></span>`
      : '';
  const warning =
    key === 'security'
      ? html`<span class="hint notice warn" id="security-none-warning" role="note" ${valueOf('security', s) === 'NONE' ? '' : 'hidden'}>NONE sends the password and every email unencrypted across the network; choose SSL or TLS unless the server is on this host.</span>`
      : '';
  return html`<div class="field" data-field="${f.api}"${auth}>
  <label for="${id}">${f.label.en}</label>
  <div>${control(key, s, id, `${id}-hint${errors.length ? ` ${id}-error` : ''}`, errors.length > 0)} ${picker}</div>
  <span class="hint" id="${id}-hint">${hint(key)}</span>
  ${warning}
  ${errors.length ? html`<span class="error" id="${id}-error">${errors.join('; ')}</span>` : ''}
</div>`;
}

/** The whole settings form for one protocol: every field that can apply, grouped. */
export function connectorFields(s: FormState, folderAction: string | null): Html {
  const general = s.errors.get('') ?? [];
  return html`${general.length ? html`<div class="notice bad" role="alert">${general.map((m) => html`<p>${m}</p>`)}</div>` : ''}
${FORM_GROUPS.map(
  (g) => html`<fieldset><legend>${FIELD_GROUPS[g.group].en}</legend>${g.keys
    .filter((k) => {
      const f = info(k);
      return !f.protocols || f.protocols.includes(s.protocol);
    })
    .map((k) => field(k, s, folderAction))}</fieldset>`,
)}`;
}
