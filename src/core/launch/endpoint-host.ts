/**
 * What `Cluster.httpEndpoint(node, port, host)` makes of its `host`: a server bound to a
 * wildcard (0.0.0.0, ::) or to loopback answers on the node's own loopback, so those mean "the
 * default"; anything else (a node IP given as --host) must be reached at exactly that address.
 */
const LOOPBACK_OR_WILDCARD: ReadonlySet<string> = new Set(['', '0.0.0.0', '::', '::0', 'localhost', '127.0.0.1', '::1']);

/** the address to connect to, or undefined for "the node's own loopback" (brackets removed) */
export function specificHost(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const bare = host.trim().replace(/^\[(.*)\]$/, '$1');
  return LOOPBACK_OR_WILDCARD.has(bare.toLowerCase()) ? undefined : bare;
}

/** an address as it goes into a URL (IPv6 in brackets) */
export function urlHostOf(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}
