export const PROTOCOLS = ['POP3', 'IMAP'] as const;
export const SECURITIES = ['NONE', 'SSL', 'TLS'] as const;
export const STRATEGIES = ['MARK_READ', 'DELETE', 'MOVE'] as const;
export const AUTH_TYPES = ['PASSWORD', 'OAUTH2'] as const;
export const OAUTH_PROVIDERS = ['MICROSOFT', 'GOOGLE', 'CUSTOM'] as const;

export type Protocol = (typeof PROTOCOLS)[number];
/** NONE = plaintext; SSL = implicit TLS; TLS = STARTTLS (IMAP) / STLS (POP3). */
export type Security = (typeof SECURITIES)[number];
export type Strategy = (typeof STRATEGIES)[number];
/** PASSWORD = the server's login; OAUTH2 = SASL XOAUTH2/OAUTHBEARER with an access token from a refresh token. */
export type AuthType = (typeof AUTH_TYPES)[number];
/** Presets of the token endpoint, scope and server; CUSTOM names its own token endpoint. */
export type OAuthProvider = (typeof OAUTH_PROVIDERS)[number];

/** The languages people read Postbote in: the original product's users work in German. */
export const LOCALES = ['de', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
/** A text a person reads, in every locale. */
export type Text = { readonly [L in Locale]: string };
