/**
 * Metadata key carrying the internal token on calls between Postbote services (the
 * fetcher's credential lookups). Both the caller and the config service use this constant.
 */
export const INTERNAL_TOKEN_HEADER = 'x-postbote-internal-token';
