const TRAILING_SLASHES = /\/+$/;

/** An `api_base` without its trailing slashes, to append an endpoint path to. */
export function trimBase(apiBase: string): string {
  return apiBase.replace(TRAILING_SLASHES, '');
}
