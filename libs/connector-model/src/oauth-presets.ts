import type { OAuthProvider, Protocol } from './enums';

export interface OAuthPreset {
  readonly tokenUrl: string;
  /** Per protocol: the provider grants IMAP and POP3 access under different scopes. */
  readonly scope: Readonly<Record<Protocol, string>>;
  /** The mail server a connector of this provider talks to unless another is given. */
  readonly host: Readonly<Record<Protocol, string>>;
}

/**
 * What choosing a provider fills in when the connector does not say otherwise.
 * Microsoft's `common` endpoint serves multi-tenant and personal-account apps; an app
 * registered for one tenant only gives its tenant's token URL
 * (`https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`). `offline_access` keeps
 * refresh tokens coming; Google's refresh tokens do not rotate and need no such scope.
 */
export const OAUTH_PRESETS: Readonly<Record<Exclude<OAuthProvider, 'CUSTOM'>, OAuthPreset>> = {
  MICROSOFT: {
    tokenUrl: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    scope: { IMAP: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access', POP3: 'https://outlook.office.com/POP.AccessAsUser.All offline_access' },
    host: { IMAP: 'outlook.office365.com', POP3: 'outlook.office365.com' },
  },
  GOOGLE: {
    tokenUrl: 'https://oauth2.googleapis.com/token',
    scope: { IMAP: 'https://mail.google.com/', POP3: 'https://mail.google.com/' },
    host: { IMAP: 'imap.gmail.com', POP3: 'pop.gmail.com' },
  },
};

export function presetOf(provider: OAuthProvider | null | undefined): OAuthPreset | undefined {
  return provider && provider !== 'CUSTOM' ? OAUTH_PRESETS[provider] : undefined;
}
