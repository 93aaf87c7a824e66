import { startLab } from './test/lab/lab';
import { labCluster } from './test/integration/ssh/helpers';
async function main() {
  const lab = await startLab({ nodes: 1 });
  const cluster = await labCluster(lab, ['node1']);
  try {
    const ac = new AbortController();
    const t = setTimeout(() => { console.log('TIMEOUT'); }, 8000);
    const run = cluster.exec('node1', ['bash', '-c', 'sleep 311 & sleep 312 & echo started; wait'], {
      signal: ac.signal, onStderr: (c) => console.log('stderr', JSON.stringify(c)),
      onStdout: (c) => { console.log('out', JSON.stringify(c)); if (c.includes('started')) ac.abort(); },
    });
    await run.then((r) => console.log('resolved', r), (e) => console.log('rejected', String(e)));
    clearTimeout(t);
  } finally { await Promise.race([cluster.dispose(), new Promise(r => setTimeout(r, 2000))]); await lab.stop(); }
}
main();
