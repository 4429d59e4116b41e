/**
 * oslo.utils' is_uuid_like, which placement uses for every UUID it checks:
 * 32 hex digits once `urn:`, `uuid:`, braces and dashes are taken away.
 */
export function isUuidLike(value: string): boolean {
  const stripped = value
    .replace(/urn:/g, '')
    .replace(/uuid:/g, '')
    .replace(/^[{}]+|[{}]+$/g, '')
    .replace(/-/g, '');
  return /^[0-9a-fA-F]{32}$/.test(stripped);
}
