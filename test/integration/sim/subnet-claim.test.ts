/**
 * Emulated node addresses are allocated, not derived: each live sim cluster claims its own
 * 127.A.B.0/24 by holding a listener on 127.A.B.254 (src/core/sim/cluster.ts), so two test
 * processes can never hand out the same node addresses and then fight over port 30000.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { SUBNET_CLAIM_PORT, claimSubnet, createSimCluster } from '../../../src/core/sim/cluster';
import type { Cluster } from '../../../src/core/launch/types';

const subnetOf = (c: Cluster): string => c.nodes[0].address.split('.').slice(0, 3).join('.');

/** another process's sim clusters: the subnets they claimed, printed, then held until stdin closes */
function clustersInAnotherProcess(count: number): Promise<{ subnets: string[]; stop: () => void }> {
  const script = `
    const { createSimCluster } = require(${JSON.stringify(require.resolve('../../../src/core/sim/cluster'))});
    (async () => {
      const subnets = [];
      for (let i = 0; i < ${count}; i++) {
        const c = await createSimCluster({ name: 'other' + i, nodes: ['a'], gpusPerNode: 1 });
        subnets.push(c.nodes[0].address.split('.').slice(0, 3).join('.'));
      }
      process.stdout.write(JSON.stringify(subnets) + '\\n');
      process.stdin.resume();
      process.stdin.on('end', () => process.exit(0));
    })();`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve({ subnets: JSON.parse(out.trim()) as string[], stop: () => child.stdin.end() });
    });
    child.once('exit', (code) => reject(new Error(`helper exited ${code}: ${out}`)));
  });
}

test('clusters in this process and in another never share a subnet while they live', async () => {
  const other = await clustersInAnotherProcess(20);
  const mine: Cluster[] = [];
  try {
    for (let i = 0; i < 20; i++) mine.push(await createSimCluster({ name: `mine${i}`, nodes: ['a', 'b'], gpusPerNode: 1 }));
    const subnets = [...other.subnets, ...mine.map(subnetOf)];
    assert.equal(new Set(subnets).size, subnets.length, `shared subnets: ${subnets.join(' ')}`);
    // each cluster's nodes are distinct addresses inside its own subnet
    for (const c of mine) assert.notEqual(c.nodes[0].address, c.nodes[1].address);
  } finally {
    other.stop();
    for (const c of mine) await c.dispose();
  }
});

test('a subnet held by someone else is skipped, and two claims from the same start get different subnets', async () => {
  const a = await claimSubnet(1234);
  const b = await claimSubnet(1234);
  try {
    assert.notDeepEqual([a.second, a.third], [b.second, b.third]);
  } finally {
    a.claim.close();
    b.claim.close();
  }
  // released: the same start gets the first subnet again
  const again = await claimSubnet(1234);
  assert.deepEqual([again.second, again.third], [a.second, a.third]);
  again.claim.close();
  // a squatter on the claim address of that subnet (another program, another process)
  const squatter = net.createServer();
  await new Promise<void>((r, j) => squatter.once('error', j).listen({ host: `127.${a.second}.${a.third}.254`, port: SUBNET_CLAIM_PORT, exclusive: true }, () => r()));
  try {
    const c = await claimSubnet(1234);
    assert.notDeepEqual([c.second, c.third], [a.second, a.third]);
    c.claim.close();
  } finally {
    squatter.close();
  }
});
